// What the plain-HTTP listener answers itself, before any forwarding: ACME HTTP-01 challenges
// (never passed to an app) and, once a host has a certificate, a redirect to HTTPS. Pure apart
// from the CertificateSource lookups.
import type { CertificateSource } from './tls/types.js';
import type { Page } from './pages.js';

export const ACME_PREFIX = '/.well-known/acme-challenge/';
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/** The proxy's own answer for a plain-HTTP request, or null to forward it. */
export function plainHttpAnswer(certs: CertificateSource, httpsPort: number, host: string, path: string, method: string, requestId: string): Page | null {
  if (path.startsWith(ACME_PREFIX)) {
    const q = path.indexOf('?');
    const token = path.slice(ACME_PREFIX.length, q < 0 ? undefined : q);
    const key = TOKEN.test(token) ? certs.httpChallenge(token) : undefined;
    const body = key ?? 'No such ACME challenge.\n';
    return {
      status: key ? 200 : 404,
      body,
      headers: { 'content-type': key ? 'application/octet-stream' : 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', 'x-request-id': requestId },
    };
  }
  if (httpsPort > 0 && certs.hasCertificate(host)) {
    // 308 keeps the method and body (a POST stays a POST), unlike 301/302.
    const location = `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${path}`;
    const body = method === 'HEAD' ? '' : `Moved to ${location}\n`;
    return { status: 308, body, headers: { location, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'x-request-id': requestId } };
  }
  return null;
}
