// A proxy with many new `.dream` names to issue (a first start with many apps): the built-in CA's
// orders run a few at a time (tls/order-slots.ts), first come first served, so the last name queued
// is issued seconds later. A client asking for that name now must not wait behind all the others:
// its handshake waits (tls/handshake-wait.ts, 5 s) and its order jumps the queue. The real proxy
// (startProxy + startCertificates, built-in CA) polling the fake api, real TLS handshakes with SNI.
import crypto from 'node:crypto';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { withBuiltinCaProxy } from './proxy-helpers.js';

const TOKEN = 'int_queued_handshake';
/** Enough names that the last one queued is issued well after the handshake wait (~5-10 ms each). */
const N = 1500;

const edge = withBuiltinCaProxy(TOKEN, N, (i) => [`app${i}.dream`]);

/** A handshake as a browser makes it: SNI, the chain verified against the platform's root. */
function handshake(name: string): Promise<{ authorized: boolean; error?: string; san?: string; ms: number; issuedThen: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: edge.proxy.httpsPort!, servername: name, ca: edge.certs.ca!.rootPem }, () => {
      resolve({ authorized: s.authorized, error: s.authorizationError?.toString(), san: new crypto.X509Certificate(s.getPeerCertificate().raw).subjectAltName, ms: Date.now() - t0, issuedThen: edge.issued() });
      s.destroy();
    });
    s.on('error', (e) => resolve({ authorized: false, error: e.message, ms: Date.now() - t0, issuedThen: edge.issued() }));
  });
}

describe(`${N} .dream names queued on the built-in CA`, () => {
  it('a handshake for the last name queued gets its certificate within the wait, ahead of the names queued before it', async () => {
    await edge.proxy.routes.synced;
    expect(edge.certs.certs.status().length).toBe(N);
    const last = `app${N - 1}.dream`;
    expect(edge.certs.certs.hasCertificate(last)).toBe(false);
    // Before, it waited its turn behind every name queued before it: the handshake failed after 5 s.
    const h = await handshake(last);
    expect(h).toMatchObject({ authorized: true, san: `DNS:${last}` });
    expect(h.ms).toBeLessThan(2000);
    expect(h.issuedThen).toBeLessThan(N / 2); // it went first, not last
    // Another name asked for meanwhile jumps the queue too.
    const other = `app${N - 2}.dream`;
    expect(await handshake(other)).toMatchObject({ authorized: true, san: `DNS:${other}` });
  }, 60_000);
});
