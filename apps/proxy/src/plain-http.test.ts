import { describe, expect, it } from 'vitest';
import { NO_CERTIFICATES, type CertificateSource } from './tls/types.js';
import { plainHttpAnswer } from './plain-http.js';

const certs: CertificateSource = { ...NO_CERTIFICATES, hasCertificate: (h) => h === 'a.dream', httpChallenge: (t) => (t === 'tok_1' ? 'tok_1.thumb' : undefined) };

describe('plainHttpAnswer', () => {
  it('answers ACME challenges itself, known or not', () => {
    expect(plainHttpAnswer(certs, 443, 'b.dream', '/.well-known/acme-challenge/tok_1', 'GET', 'id')).toMatchObject({ status: 200, body: 'tok_1.thumb' });
    expect(plainHttpAnswer(certs, 443, 'b.dream', '/.well-known/acme-challenge/nope', 'GET', 'id')).toMatchObject({ status: 404 });
    expect(plainHttpAnswer(certs, 443, 'b.dream', '/.well-known/acme-challenge/../x', 'GET', 'id')).toMatchObject({ status: 404 });
  });
  it('redirects to HTTPS with 308, path and query kept, only once a certificate exists', () => {
    expect(plainHttpAnswer(certs, 443, 'a.dream', '/x?y=1', 'POST', 'id')).toMatchObject({ status: 308, headers: { location: 'https://a.dream/x?y=1' } });
    expect(plainHttpAnswer(certs, 8443, 'a.dream', '/', 'GET', 'id')?.headers.location).toBe('https://a.dream:8443/');
    expect(plainHttpAnswer(certs, 443, 'b.dream', '/', 'GET', 'id')).toBeNull();
    expect(plainHttpAnswer(certs, 0, 'a.dream', '/', 'GET', 'id')).toBeNull();
  });
});
