// What a restart finds on disk after a crash or a damaged file: it serves a certificate or orders a
// new one, but it never throws, never serves a broken pair, and never re-orders a good certificate.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { BuiltinIssuer } from './issuer.js';
import { CertManager } from './manager.js';
import { TlsStorage } from './storage.js';
import { handshake, onCleanup, tmp } from './test-support.js';

/** Storage whose process "dies" (throws) on the write after `allowed` more writes. */
class CrashingStorage extends TlsStorage {
  constructor(dir: string, private allowed: number) { super(dir); }
  override write(rel: string, data: string, secret = false): void {
    if (this.allowed-- <= 0) throw new Error('killed mid-save');
    super.write(rel, data, secret);
  }
}

async function issued(dir: string) {
  const storage = new TlsStorage(dir);
  const ca = await BuiltinCa.open(storage);
  const mgr = new CertManager({ storage, issuerFor: () => new BuiltinIssuer(ca) });
  mgr.ensure(['hello.dream']);
  await mgr.tick();
  await mgr.close();
  return { ca, first: await handshake(mgr, 'hello.dream', ca.rootPem) };
}

async function restart(dir: string, ca: BuiltinCa) {
  let out = '';
  const log = pino({ level: 'info' }, { write: (s: string) => { out += s; } });
  const mgr = new CertManager({ storage: new TlsStorage(dir), issuerFor: () => new BuiltinIssuer(ca), log });
  onCleanup(() => mgr.close());
  mgr.ensure(['hello.dream']);
  await mgr.tick();
  return { mgr, now: await handshake(mgr, 'hello.dream', ca.rootPem), log: () => out };
}

describe('certificate storage across crashes', () => {
  it('a renewal killed after any number of its file writes leaves a pair that serves without a new order', async () => {
    for (const allowed of [0, 1, 2]) {
      const dir = tmp();
      const { ca, first } = await issued(dir);
      const next = await ca.issue(['hello.dream']);
      const meta = { host: 'hello.dream', issuer: 'DreamNet built-in CA', notBefore: next.notBefore.toISOString(), notAfter: next.notAfter.toISOString() };
      try { new CrashingStorage(dir, allowed).saveCert('builtin', { certPem: next.certPem, keyPem: next.keyPem, meta }); } catch { /* the crash */ }
      const { mgr, now } = await restart(dir, ca);
      expect(now.authorized, `crash after ${allowed} writes`).toBe(true);
      expect(mgr.orders, `crash after ${allowed} writes`).toBe(0);
      // The old pair or the new one, whole.
      expect([first.fingerprint, new crypto.X509Certificate(next.certPem).fingerprint256]).toContain(now.fingerprint);
    }
  });

  it('a truncated stored file, or a key that is not the certificate\'s, is re-ordered at start instead of failing it', async () => {
    const dir = tmp();
    const { ca } = await issued(dir);
    const host = path.join(dir, 'tls/certs/builtin/hello.dream');
    const files = fs.readdirSync(host);
    for (const f of files) {
      const saved = Object.fromEntries(files.map((x) => [x, fs.readFileSync(path.join(host, x))]));
      const body = saved[f]!;
      fs.writeFileSync(path.join(host, f), body.subarray(0, body.length >> 1));
      const { mgr, now, log } = await restart(dir, ca);
      expect(mgr.orders, f).toBe(1);
      expect(now.authorized, f).toBe(true);
      expect(mgr.status()).toMatchObject([{ host: 'hello.dream', state: 'issued' }]);
      // Why a certificate is ordered again (the CA counts duplicates: Let's Encrypt allows 5 a week).
      const said = log().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; err?: string }).find((l) => l.msg === 'stored certificate unusable; ordering a new one');
      expect(said?.err, f).toMatch(new RegExp(`^${path.join(host, f).replace(/\./g, '\\.')}: `));
    }
    // A pair in the layout older versions wrote, with the key of another certificate.
    fs.rmSync(host, { recursive: true });
    const [a, b] = [await ca.issue(['hello.dream']), await ca.issue(['hello.dream'])];
    fs.mkdirSync(host, { recursive: true });
    fs.writeFileSync(path.join(host, 'cert.pem'), a.certPem);
    fs.writeFileSync(path.join(host, 'key.pem'), b.keyPem);
    fs.writeFileSync(path.join(host, 'meta.json'), JSON.stringify({ host: 'hello.dream', issuer: 'x', notBefore: a.notBefore, notAfter: a.notAfter }));
    const { mgr, now } = await restart(dir, ca);
    expect(mgr.orders).toBe(1);
    expect(now.authorized).toBe(true);
  });
});
