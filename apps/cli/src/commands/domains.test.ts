// What `dream domains` prints for a certificate the proxy holds back: the reason and the next try.
import { describe, expect, it } from 'vitest';
import type { Domain } from '../api-types.js';
import { domainRows } from './domains.js';

const now = new Date('2030-01-01T12:00:00Z');
const cert = (c: Partial<NonNullable<Domain['certificate']>>): Domain['certificate'] => ({ state: 'pending', issuer: 'acme-v02.api.letsencrypt.org', notAfter: null, error: null, nextAttemptAt: null, reportedAt: now.toISOString(), ...c });

describe('dream domains rows', () => {
  it('a failing name shows the CA reason and the next try', () => {
    const [row] = domainRows([{ host: 'www.example.com', kind: 'custom', certificate: cert({ state: 'failing', error: 'urn:ietf:params:acme:error:dns: NXDOMAIN', nextAttemptAt: '2030-01-01T12:04:00.000Z' }) }], now);
    expect(row).toEqual(['www.example.com', 'custom', 'failing', 'acme-v02.api.letsencrypt.org', 'urn:ietf:params:acme:error:dns: NXDOMAIN (next try 2030-01-01T12:04:00.000Z)']);
  });

  it('a pending name held back by the proxy\'s order throttle says so and until when', () => {
    const error = 'throttled: this ACME account already placed 30 orders in the last 1 h, the most this proxy places (the CA limits orders per account)';
    const [row] = domainRows([{ host: 'www.example.com', kind: 'custom', certificate: cert({ error, nextAttemptAt: '2030-01-01T12:40:00.000Z' }) }], now);
    expect(row![2]).toBe('pending');
    expect(row![4]).toBe(`${error} (next try 2030-01-01T12:40:00.000Z)`);
  });

  it('a name being ordered again (no next try) shows the previous attempt\'s reason as the proxy labels it', () => {
    const error = 'previous attempt failed: urn:ietf:params:acme:error:dns: NXDOMAIN';
    const [row] = domainRows([{ host: 'www.example.com', kind: 'custom', certificate: cert({ error }) }], now);
    expect(row!.slice(2)).toEqual(['pending', 'acme-v02.api.letsencrypt.org', error]);
    const [renewing] = domainRows([{ host: 'www.example.com', kind: 'custom', certificate: cert({ state: 'renewing', error, notAfter: '2030-01-20T00:00:00.000Z' }) }], now);
    expect(renewing![4]).toBe(`expires 2030-01-20, reported just now; ${error}`);
  });
});
