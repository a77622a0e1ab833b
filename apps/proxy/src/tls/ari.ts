// ACME Renewal Information (RFC 9773): the CA says when to renew each certificate, and may move
// that window (say, ahead of a mass revocation), so it is asked again whenever its Retry-After says.
import * as x509 from '@peculiar/x509';
import { acmeLib } from './acme-lib.js';
import { parseRetryAfter } from './retry-after.js';

const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

/** RFC 9773 certificate id: base64url(AKI keyIdentifier) "." base64url(serial DER value). */
export function ariCertId(leafPem: string): string | undefined {
  const cert = new x509.X509Certificate(leafPem);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) return undefined;
  let serial = cert.serialNumber.toLowerCase();
  if (serial.length % 2) serial = `0${serial}`;
  if (parseInt(serial.slice(0, 2), 16) >= 0x80) serial = `00${serial}`; // DER INTEGER stays positive
  return `${b64u(aki.keyId)}.${b64u(serial)}`;
}

export interface RenewalAdvice {
  /** A random point in the CA's suggested window (spreads renewals out, as the RFC asks). */
  renewAt: Date;
  /** When to ask again: the CA's Retry-After, kept between 1 h and 1 day (6 h if it says nothing). */
  retryAfterMs: number;
}

const directories = new Map<string, { at: number; url: Promise<string | undefined> }>();

/**
 * The directory's renewalInfo URL, or undefined when the CA does not offer ARI. Kept for an hour:
 * every certificate asks on its own schedule, and the directory rarely changes.
 */
export function renewalInfoUrl(directoryUrl: string): Promise<string | undefined> {
  const hit = directories.get(directoryUrl);
  if (hit && Date.now() - hit.at < 3600_000) return hit.url;
  const url = acmeLib().then((a) => a.axios.get(directoryUrl)).then((r) => {
    const dir = r.data as { renewalInfo?: unknown } | undefined;
    return typeof dir?.renewalInfo === 'string' ? dir.renewalInfo.replace(/\/$/, '') : undefined;
  });
  url.catch(() => directories.delete(directoryUrl)); // unreachable: ask again next time
  directories.set(directoryUrl, { at: Date.now(), url });
  return url;
}

export async function fetchRenewalInfo(directoryUrl: string, certPem: string): Promise<RenewalAdvice | undefined> {
  const base = await renewalInfoUrl(directoryUrl);
  const id = base ? ariCertId(certPem) : undefined;
  if (!base || !id) return undefined;
  const res = await (await acmeLib()).axios.get(`${base}/${id}`);
  const w = (res.data as { suggestedWindow?: { start: string; end: string } }).suggestedWindow;
  const start = Date.parse(w?.start ?? '');
  const end = Date.parse(w?.end ?? '');
  if (res.status !== 200 || !Number.isFinite(start) || !Number.isFinite(end)) return undefined;
  return { renewAt: new Date(start + Math.random() * Math.max(0, end - start)), retryAfterMs: retryAfterMs(res.headers['retry-after'], Date.now()) };
}

/**
 * When to ask the CA again: its Retry-After as seconds or as an HTTP-date (RFC 9110 §10.2.3 allows
 * both; a date was ignored, falling back to 6 h), kept between 1 h and 1 day; 6 h without one.
 */
export function retryAfterMs(header: unknown, now: number): number {
  return Math.min(86_400_000, Math.max(3600_000, parseRetryAfter(header, now) ?? 6 * 3600_000));
}
