// What a certificate found on disk is worth at start-up. Its dates come from the certificate, not
// from meta.json (a meta from an older pair would make a fresh certificate look due, or an expired
// one look valid); it must cover the name and its key must match. Anything else is re-ordered.
import crypto from 'node:crypto';
import tls from 'node:tls';
import type { CertMeta, StoredCert } from './storage.js';

export interface UsablePair { ctx: tls.SecureContext; meta: CertMeta; certPem: string }

/** The pair ready to serve, or the reason it is not (logged; the name is then ordered anew). */
export function usablePair(stored: StoredCert, host: string, now: number): UsablePair | string {
  try {
    const leaf = new crypto.X509Certificate(stored.certPem);
    const notBefore = new Date(leaf.validFrom);
    const notAfter = new Date(leaf.validTo);
    if (notAfter.getTime() <= now) return `expired ${notAfter.toISOString()}`;
    // checkHost matches wildcards in the certificate, so '*.a.b' is checked as a name under it.
    if (!leaf.checkHost(host.replace(/^\*\./, 'x.'))) return `does not cover ${host}`;
    const ctx = tls.createSecureContext({ cert: stored.certPem, key: stored.keyPem }); // throws on a key mismatch
    // ARI advice is about one certificate: drop it when meta.json was written for another one.
    const ari = stored.meta.ariSerial === leaf.serialNumber ? stored.meta.ariRenewAt : undefined;
    const meta: CertMeta = { ...stored.meta, host, notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString(), ariRenewAt: ari, ariSerial: ari ? leaf.serialNumber : undefined };
    return { ctx, meta, certPem: stored.certPem };
  } catch (e) {
    return (e as Error).message;
  }
}

/** Of several stored pairs (other issuers' for one name), the usable one valid longest; undefined: none. */
export function longestUsable(stored: StoredCert[], host: string, now: number): UsablePair | undefined {
  let best: UsablePair | undefined;
  for (const c of stored) {
    const p = usablePair(c, host, now);
    if (typeof p !== 'string' && (!best || Date.parse(p.meta.notAfter) > Date.parse(best.meta.notAfter))) best = p;
  }
  return best;
}

export const serialOf = (certPem: string) => new crypto.X509Certificate(certPem).serialNumber;
