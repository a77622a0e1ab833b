// The manager with the built-in CA: real files, real TLS handshakes; a failing issuer for backoff.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { ariCertId, BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager } from './manager.js';
import { ManualClock } from './renewal.js';
import { TlsStorage } from './storage.js';
import { serialOf } from './stored.js';
import * as x509 from '@peculiar/x509';
import { handshake as sni } from './test-support.js';

const dirs: string[] = [];
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of closers.splice(0)) await c(); for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-')); dirs.push(d); return d; };

async function handshake(mgr: CertManager, servername: string, ca: string): Promise<{ authorized: boolean; error?: string; fingerprint?: string; serial?: string }> {
  const server = tls.createServer({ SNICallback: (name, cb) => cb(null, mgr.secureContext(name)) }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => {
      const peer = sock.getPeerCertificate();
      resolve({ authorized: sock.authorized, fingerprint: peer.fingerprint256, serial: new crypto.X509Certificate(peer.raw).serialNumber });
      sock.end();
    });
    sock.on('error', (e) => resolve({ authorized: false, error: e.message }));
  });
}

describe('CertManager with the built-in .dream CA', () => {
  it('creates the root once (key 0600) and serves a chain that verifies against it', async () => {
    const dir = tmp();
    const storage = new TlsStorage(dir);
    const ca = await BuiltinCa.open(storage);
    expect(fs.statSync(path.join(dir, 'tls/ca/root.key')).mode & 0o777).toBe(0o600);
    expect((await BuiltinCa.open(storage)).rootPem).toBe(ca.rootPem);
    const mgr = new CertManager({ storage, issuerFor: () => new BuiltinIssuer(ca) });
    closers.push(() => mgr.close());
    mgr.ensure(['hello.dream']);
    await mgr.tick();
    expect(mgr.status()).toMatchObject([{ host: 'hello.dream', state: 'issued' }]);
    expect(mgr.hasCertificate('hello.dream')).toBe(true);
    const r = await handshake(mgr, 'hello.dream', ca.rootPem);
    expect(r).toMatchObject({ authorized: true });
    const key = fs.readdirSync(path.join(dir, 'tls/certs/builtin/hello.dream'));
    expect(key.sort()).toEqual(['pair.json']);
    expect(fs.statSync(path.join(dir, 'tls/certs/builtin/hello.dream/pair.json')).mode & 0o777).toBe(0o600);
    // An unknown name: no context, a clean handshake failure, no crash.
    const bad = await handshake(mgr, 'unknown.dream', ca.rootPem);
    expect(bad.authorized).toBe(false);
  });

  it('refuses to sign names outside .dream (the root is name-constrained too)', async () => {
    const ca = await BuiltinCa.open(new TlsStorage(tmp()));
    await expect(ca.issue(['example.com'])).rejects.toThrow(/only issues .dream/);
    expect(ca.rootPem).toContain('BEGIN CERTIFICATE');
    const root = new x509.X509Certificate(ca.rootPem);
    expect(root.extensions.some((e) => e.type === '2.5.29.30' && e.critical)).toBe(true);
  });

  it('a restart loads the stored certificate: same certificate, no new order', async () => {
    const dir = tmp();
    const storage = new TlsStorage(dir);
    const ca = await BuiltinCa.open(storage);
    const a = new CertManager({ storage, issuerFor: () => new BuiltinIssuer(ca) });
    a.ensure(['hello.dream']);
    await a.tick();
    const first = await handshake(a, 'hello.dream', ca.rootPem);
    await a.close();
    const b = new CertManager({ storage: new TlsStorage(dir), issuerFor: () => new BuiltinIssuer(ca) });
    closers.push(() => b.close());
    b.ensure(['hello.dream']);
    await b.tick();
    expect(b.orders).toBe(0);
    expect((await handshake(b, 'hello.dream', ca.rootPem)).fingerprint).toBe(first.fingerprint);
  });

  it('renews when a third of the lifetime is left (injectable clock), and serves throughout', async () => {
    const storage = new TlsStorage(tmp());
    const ca = await BuiltinCa.open(storage);
    // Starts 25 days ago so that both certificates are valid for the real-time TLS handshake.
    const clock = new ManualClock(Date.now() - 25 * 86_400_000);
    const mgr = new CertManager({ storage, clock, issuerFor: () => new BuiltinIssuer(ca, 30) });
    closers.push(() => mgr.close());
    mgr.ensure(['hello.dream']);
    await mgr.tick();
    const first = await handshake(mgr, 'hello.dream', ca.rootPem);
    clock.advance(19 * 86_400_000); // 11 of 30 days left: not yet
    await mgr.tick();
    expect(mgr.orders).toBe(1);
    clock.advance(2 * 86_400_000); // 9 days left (< 1/3): renew
    await mgr.tick();
    expect(mgr.orders).toBe(2);
    const second = await handshake(mgr, 'hello.dream', ca.rootPem);
    expect(second.authorized).toBe(true);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(mgr.status()[0]).toMatchObject({ state: 'issued' });
  });

  it('a failing CA: status says failing with the reason, retries back off, the old certificate keeps serving', async () => {
    const storage = new TlsStorage(tmp());
    const ca = await BuiltinCa.open(storage);
    const clock = new ManualClock(Date.now() - 25 * 86_400_000);
    let down = false;
    let calls = 0;
    const real = new BuiltinIssuer(ca, 30);
    const flaky: Issuer = { id: 'builtin', name: 'flaky', issue: (h, clock) => { calls++; return down ? Promise.reject(new Error('urn:ietf:params:acme:error:serverInternal: CA is down')) : real.issue(h, clock); } };
    const mgr = new CertManager({ storage, clock, issuerFor: () => flaky, backoff: { minMs: 60_000, maxMs: 3600_000 } });
    closers.push(() => mgr.close());
    mgr.ensure(['hello.dream']);
    await mgr.tick();
    down = true;
    clock.advance(21 * 86_400_000);
    await mgr.tick();
    expect(calls).toBe(2);
    expect(mgr.status()[0]).toMatchObject({ state: 'failing', error: expect.stringContaining('CA is down') });
    expect((await handshake(mgr, 'hello.dream', ca.rootPem)).authorized).toBe(true);
    await mgr.tick(); // within the backoff: no new attempt
    expect(calls).toBe(2);
    clock.advance(60_000);
    await mgr.tick(); // 1 min later: retried, fails again → next wait is 2 min
    expect(calls).toBe(3);
    clock.advance(60_000);
    await mgr.tick();
    expect(calls).toBe(3);
    down = false;
    clock.advance(60_000);
    await mgr.tick();
    expect(calls).toBe(4);
    expect(mgr.status()[0]).toMatchObject({ state: 'issued', error: undefined });
    // Success resets the backoff: the next failure waits 1 min again, not 8.
    down = true;
    clock.advance(21 * 86_400_000);
    await mgr.tick();
    expect(calls).toBe(5);
    expect(Date.parse(mgr.status()[0]!.nextAttemptAt!) - clock.now()).toBe(60_000);
  });

  it('two proxies on one data dir: one root CA, one order per name, both serve the same certificate', async () => {
    const dir = tmp();
    const [ca1, ca2] = await Promise.all([BuiltinCa.open(new TlsStorage(dir)), BuiltinCa.open(new TlsStorage(dir))]);
    expect(ca2.rootPem).toBe(ca1.rootPem);
    const a = new CertManager({ storage: new TlsStorage(dir), issuerFor: () => new BuiltinIssuer(ca1) });
    const b = new CertManager({ storage: new TlsStorage(dir), issuerFor: () => new BuiltinIssuer(ca2) });
    closers.push(() => a.close(), () => b.close());
    a.ensure(['hello.dream']);
    b.ensure(['hello.dream']);
    await Promise.all([a.tick(), b.tick()]);
    for (let i = 0; i < 50 && !(a.hasCertificate('hello.dream') && b.hasCertificate('hello.dream')); i++) await new Promise((r) => setTimeout(r, 100));
    expect(a.orders + b.orders).toBe(1);
    const [fa, fb] = [await handshake(a, 'hello.dream', ca1.rootPem), await handshake(b, 'hello.dream', ca1.rootPem)];
    expect(fa.authorized && fb.authorized).toBe(true);
    expect(fb.fingerprint).toBe(fa.fingerprint);
  });

  it('the storage lock keeps a second process from ordering the same name; a stale lock is broken', () => {
    const storage = new TlsStorage(tmp());
    const release = storage.tryLock('hello.dream', 60_000);
    expect(release).toBeTypeOf('function');
    expect(storage.tryLock('hello.dream', 60_000)).toBeNull();
    expect(storage.tryLock('hello.dream', -1)).toBeTypeOf('function'); // older than "stale": broken
    release!();
  });
});

describe('sibling processes on one data dir (the workers of a proxy, or two proxies)', () => {
  const DIRECTORY = 'https://ca.example.test/directory';
  const DAY = 86_400_000;
  /**
   * An ACME-like issuer signing with the built-in CA. Its renewal information says "far away" for
   * every certificate, except "now" for those in `moved` (ahead of a revocation); each process asks
   * again as its own Retry-After says.
   */
  async function setup() {
    const dir = tmp();
    const ca = await BuiltinCa.open(new TlsStorage(dir));
    const real = new BuiltinIssuer(ca, 30);
    const ca$ = { down: false, calls: 0, moved: new Set<string>() };
    const clock = new ManualClock(Date.now() - 5 * DAY);
    const start = (retryAfterMs = 3600_000) => {
      const issuer: Issuer = {
        id: DIRECTORY, name: 'ca.example.test',
        issue: (h, clock) => { ca$.calls++; return ca$.down ? Promise.reject(new Error('urn:ietf:params:acme:error:unauthorized: 404 for the challenge')) : real.issue(h, clock); },
        renewalInfo: async (pem) => ({ renewAt: new Date(ca$.moved.has(serialOf(pem)) ? clock.now() - 60_000 : clock.now() + 20 * DAY), retryAfterMs }),
      };
      const mgr = new CertManager({ storage: new TlsStorage(dir), clock, issuerFor: () => issuer, backoff: { minMs: 60_000, maxMs: 3600_000 }, tickMs: 3_600_000 });
      closers.push(() => mgr.close());
      return mgr;
    };
    return { ca, ca$, clock, start };
  }

  it('a certificate one process renewed is served by the others at once, not at their own renewal time', async () => {
    const { ca, ca$, clock, start } = await setup();
    // Each process asks on its own schedule: b's next look may be a day away (or it picked a later
    // point in a window days wide); meanwhile it served the certificate a renewed.
    const [a, b] = [start(3600_000), start(86_400_000)];
    a.ensure(['hello.dream']);
    await a.tick();
    b.ensure(['hello.dream']);
    await b.tick();
    const first = await handshake(a, 'hello.dream', ca.rootPem);
    expect((await handshake(b, 'hello.dream', ca.rootPem)).fingerprint).toBe(first.fingerprint);
    ca$.moved.add(first.serial!);
    clock.advance(2 * 3600_000);
    await a.tick();
    const second = await handshake(a, 'hello.dream', ca.rootPem);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    await b.tick();
    expect(a.orders + b.orders).toBe(2);
    expect((await handshake(b, 'hello.dream', ca.rootPem)).fingerprint).toBe(second.fingerprint);
    expect(b.status()).toMatchObject([{ state: 'issued', notAfter: new Date(Date.parse(a.status()[0]!.notAfter!) - Date.parse(a.status()[0]!.notAfter!) % 1000).toISOString() }]);
    await b.close();
    // And without a tick: the 5-second look at the data dir.
    const c = start(86_400_000);
    c.ensure(['hello.dream']);
    ca$.moved.add(second.serial!);
    clock.advance(2 * 3600_000);
    await a.tick();
    const third = await handshake(a, 'hello.dream', ca.rootPem);
    expect(third.fingerprint).not.toBe(second.fingerprint);
    await expect.poll(async () => (await handshake(c, 'hello.dream', ca.rootPem)).fingerprint, { timeout: 8000, interval: 250 }).toBe(third.fingerprint);
  });

  it('a name another process got issued stops showing the failure it had (and its failure count)', async () => {
    const { ca$, clock, start } = await setup();
    const [a, b] = [start(), start()];
    ca$.down = true;
    a.ensure(['hello.dream']);
    await a.tick(); // a orders and fails…
    b.ensure(['hello.dream']);
    await b.tick(); // …b, finding its backoff, fails with it without an order
    expect(ca$.calls).toBe(1);
    expect(b.status()[0]).toMatchObject({ state: 'failing', error: expect.stringContaining('404 for the challenge') });
    ca$.down = false;
    clock.advance(60_000);
    await a.tick();
    await b.tick();
    expect(ca$.calls).toBe(2);
    expect(a.status()[0]).toMatchObject({ state: 'issued', error: undefined, nextAttemptAt: undefined });
    expect(b.status()[0]).toMatchObject({ state: 'issued', error: undefined, nextAttemptAt: undefined });
    // b's next failure is a first failure again: 1 min, not 2.
    ca$.down = true;
    clock.advance(21 * DAY);
    await b.tick();
    expect(b.status()[0]).toMatchObject({ state: 'failing' });
    expect(Date.parse(b.status()[0]!.nextAttemptAt!) - clock.now()).toBe(60_000);
  });
});

describe('SNI names as clients send them', () => {
  it('any case and a trailing dot get the certificate; an unknown name fails the handshake and the listener goes on', async () => {
    const storage = new TlsStorage(tmp());
    const ca = await BuiltinCa.open(storage);
    const mgr = new CertManager({ storage, issuerFor: () => new BuiltinIssuer(ca) });
    closers.push(() => mgr.close());
    mgr.ensure(['Hello.Dream.', '*.hello.dream']); // a route table with odd spelling too
    await mgr.tick();
    expect(mgr.status().map((s) => [s.host, s.state])).toEqual([['hello.dream', 'issued'], ['*.hello.dream', 'issued']]);
    for (const name of ['hello.dream', 'HELLO.DREAM', 'hello.dream.', 'Hello.Dream.']) expect(await sni(mgr, name, ca.rootPem), name).toMatchObject({ authorized: true, subject: 'hello.dream' });
    expect(await sni(mgr, 'API.hello.dream.', ca.rootPem)).toMatchObject({ authorized: true, subject: '*.hello.dream' });
    for (const name of ['unknown.dream', 'a.b.hello.dream', 'hello.dream..', '.hello.dream', 'x']) expect((await sni(mgr, name, ca.rootPem)).authorized, name).toBe(false);
    expect(await sni(mgr, 'hello.dream', ca.rootPem)).toMatchObject({ authorized: true });
  });
});

describe('ACME Renewal Information', () => {
  it('computes the RFC 9773 certificate id', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await crypto.webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as unknown as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '0087654321', name: 'CN=x', keys, signingAlgorithm: alg,
      extensions: [new x509.AuthorityKeyIdentifierExtension('69885B6B87464041E1B37B847BA0AE2CDE01C8D4')],
    });
    expect(ariCertId(cert.toString('pem'))).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });
});
