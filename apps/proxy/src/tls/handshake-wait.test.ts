// A handshake for a served name whose certificate another process on the data dir is issuing: two
// managers on one data dir (as two workers), the built-in CA, real TLS handshakes through an SNI
// callback shaped like the proxy's (https.ts).
import net from 'node:net';
import tls from 'node:tls';
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { MAX_WAITING } from './handshake-wait.js';
import { BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager } from './manager.js';
import { TlsStorage } from './storage.js';
import { onCleanup, tmp } from './test-support.js';

/** A handshake for `servername` against a server asking `mgr` as the proxy does; ms it took. */
async function shake(mgr: CertManager, servername: string, root: string): Promise<{ ok: boolean; ms: number; cn?: string }> {
  const server = tls.createServer({
    SNICallback: (name, cb) => {
      const answer = (sc?: tls.SecureContext) => (sc ? cb(null, sc) : cb(new Error('no certificate')));
      const sc = mgr.secureContext(name);
      const soon = sc ? undefined : mgr.secureContextSoon(name);
      if (soon) void soon.then(answer); else answer(sc);
    },
  }, (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername, ca: root }, () => {
      resolve({ ok: sock.authorized, ms: Date.now() - t0, cn: new crypto.X509Certificate(sock.getPeerCertificate().raw).subject });
      sock.end();
    });
    sock.on('error', () => resolve({ ok: false, ms: Date.now() - t0 }));
  });
}

async function siblings(issue: (real: Issuer) => Issuer['issue']) {
  const storage = new TlsStorage(tmp());
  const ca = await BuiltinCa.open(storage);
  const real = new BuiltinIssuer(ca);
  const slow: Issuer = { id: real.id, name: real.name, issue: issue(real) };
  const a = new CertManager({ storage, issuerFor: () => slow });
  const b = new CertManager({ storage: new TlsStorage(storage.dir.replace(/\/tls$/, '')), issuerFor: () => real });
  onCleanup(() => a.close());
  onCleanup(() => b.close());
  return { a, b, root: ca.rootPem };
}

describe('handshakes waiting for a certificate another process is issuing', () => {
  it('a worker without the certificate serves the one its sibling issues (in 400 ms) instead of failing; an unknown name fails at once', async () => {
    const { a, b, root } = await siblings((real) => (h, clock) => new Promise((r) => setTimeout(r, 400)).then(() => real.issue(h, clock)));
    a.ensure(['app.dream']);
    await new Promise((r) => setImmediate(r)); // a reads the name's (empty) storage, takes the order lock, issues in 400 ms
    b.ensure(['app.dream']); // sees the lock: would look again in 2 s
    expect(b.hasCertificate('app.dream')).toBe(false);
    const shakes = await Promise.all(Array.from({ length: 5 }, () => shake(b, 'app.dream', root)));
    expect(shakes.map((s) => s.ok)).toEqual([true, true, true, true, true]);
    expect(shakes[0]!.cn).toContain('app.dream');
    expect(Math.max(...shakes.map((s) => s.ms))).toBeLessThan(1500);
    expect(b.hasCertificate('app.dream')).toBe(true); // adopted: the next handshakes need no wait
    expect(b.orders).toBe(0);
    expect(b.secureContextSoon('nobody.dream')).toBeUndefined();
    expect(await shake(b, 'nobody.dream', root)).toMatchObject({ ok: false });
  });

  it('a served name with no order in flight anywhere and nothing stored fails without waiting', async () => {
    const { a, root } = await siblings(() => () => Promise.reject(new Error('CA is down')));
    a.ensure(['down.dream']);
    await a.tick();
    expect(a.status()[0]).toMatchObject({ state: 'failing' });
    const r = await shake(a, 'down.dream', root);
    expect(r.ok).toBe(false);
    expect(r.ms).toBeLessThan(1000);
  });

  it(`at most ${MAX_WAITING} handshakes wait at once; more fail at once`, async () => {
    const { a, b } = await siblings((real) => (h, clock) => new Promise((r) => setTimeout(r, 300)).then(() => real.issue(h, clock)));
    a.ensure(['busy.dream']);
    b.ensure(['busy.dream']);
    const waits = Array.from({ length: MAX_WAITING }, () => b.secureContextSoon('busy.dream'));
    expect(waits.every((w) => w instanceof Promise)).toBe(true);
    expect(b.secureContextSoon('busy.dream')).toBeUndefined();
    expect((await Promise.all(waits)).every((c) => c !== undefined)).toBe(true);
    expect(b.secureContextSoon('busy.dream')).toBeInstanceOf(Promise); // free again (and served at once)
  });
});
