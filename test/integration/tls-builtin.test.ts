// The built-in .dream CA end to end, with no .dream ACME directory: a real api (listening), the
// certificate stack reporting status to it, `dream domains` and `dream trust` through the real CLI,
// and a real TLS handshake verified against the root the api hands out.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi } from '../../apps/api/src/test-support.js';
import { run } from '../../apps/cli/src/run.js';
import { SYSTEM_CA_FILE } from '../../apps/cli/src/commands/trust.js';
import { NSS_NICKNAME } from '../../apps/cli/src/commands/trust-stores.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { freePort } from './tls-pebble.js';

let t: Awaited<ReturnType<typeof testApi>>;
let apiUrl: string;
let certs: Certificates;
let server: tls.Server;
let deadPort: number;

async function dream(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return dreamIn(path.join(t.dataDir, 'home'), ...argv);
}

async function dreamIn(home: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''; let err = '';
  const io = { stdout: (s: string) => { out += s; }, stderr: (s: string) => { err += s; }, env: { DREAM_URL: apiUrl, DREAM_TOKEN: t.admin, HOME: home }, stdin: process.stdin, now: () => new Date() };
  const code = await run(['--url', apiUrl, '--token', t.admin, ...argv], io);
  return { code, out, err };
}

beforeAll(async () => {
  t = await testApi();
  apiUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
  deadPort = await freePort(); // nothing listens: the public ACME directory is "down"
  certs = await startCertificates({
    config: loadConfig({ DREAM_DATA_DIR: t.dataDir, DREAM_API_URL: apiUrl, DREAM_ACME_DIRECTORY: `https://127.0.0.1:${deadPort}/directory`, DREAM_DREAM_ACME_DIRECTORY: '' }),
    token: t.internalToken, proxyId: 'proxy-test',
  });
  server = tls.createServer({ SNICallback: (n, cb) => cb(null, certs.certs.secureContext(n)) }, (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
}, 60_000);

afterAll(async () => {
  await certs?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  await t?.app.close();
});

describe('built-in .dream CA (no ACME directory for .dream)', () => {
  it('an app and a custom domain: .dream issued by the platform CA, the unreachable public CA shown as failing with its reason', async () => {
    expect((await dream('apps', 'create', 'hello')).code).toBe(0);
    const added = await dream('domains', 'add', 'hello', 'www.example.test');
    expect(added.code).toBe(0);
    expect(added.out).toContain('Added www.example.test to hello');
    const bad = await dream('domains', 'add', 'hello', 'WWW.EXAMPLE.TEST');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('is not a domain we can serve: use lowercase');

    // What the proxy does on each route-table change:
    t.routes.set('hello', ['hello.dream'], [{ host: '127.0.0.1', port: 5000 }]);
    certs.certs.ensure(t.routes.snapshot().routes.flatMap((r) => r.hosts));
    await certs.certs.tick();
    expect(certs.certs.status().find((s) => s.host === 'hello.dream')).toMatchObject({ state: 'issued', issuer: 'DreamNet built-in CA' });

    for (let i = 0; i < 50 && t.store.domains.certStatus('www.example.test')?.state !== 'failing'; i++) await new Promise((r) => setTimeout(r, 100));
    const list = await dream('domains', 'hello');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/hello\.dream\s+automatic\s+issued\s+DreamNet built-in CA/);
    expect(list.out).toMatch(/www\.example\.test\s+custom\s+failing\s+127\.0\.0\.1:\d+\s+cannot reach the ACME server .*ECONNREFUSED/);
  }, 60_000);

  it('dream trust prints the root; a TLS handshake to hello.dream verifies against it', async () => {
    const trust = await dream('trust');
    expect(trust.code).toBe(0);
    expect(trust.out).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const port = (server.address() as net.AddressInfo).port;
    const r = await new Promise<{ ok: boolean; cn?: string; err?: string }>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'hello.dream', ca: trust.out }, () => { resolve({ ok: s.authorized, cn: String(s.getPeerCertificate().subject?.CN) }); s.end(); });
      s.on('error', (e) => resolve({ ok: false, err: e.message }));
    });
    expect(r).toEqual({ ok: true, cn: 'hello.dream' });
  });

  // Writes the machine's trust store: root only (CI runs as root); what it found there is put back.
  it.skipIf(process.getuid?.() !== 0)('dream trust install: the system store and the browsers\' own NSS databases (Chrome, each Firefox profile) verify hello.dream', async () => {
    const home = path.join(t.dataDir, 'trust-home');
    const chrome = path.join(home, '.pki/nssdb');
    const firefox = path.join(home, '.mozilla/firefox/abc123.default-release');
    for (const db of [chrome, firefox]) {
      fs.mkdirSync(db, { recursive: true });
      execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
    }
    const port = (server.address() as net.AddressInfo).port;
    const leaf = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'hello.dream', rejectUnauthorized: false }, () => { resolve(new crypto.X509Certificate(s.getPeerCertificate().raw).toString()); s.end(); });
      s.on('error', reject);
    });
    const leafFile = path.join(home, 'leaf.pem');
    fs.writeFileSync(leafFile, leaf);
    // What NSS (Firefox; Chrome on Linux takes its roots from the same database) says of the chain.
    const nssVerifies = (db: string) => {
      const r = spawnSync('vfychain', ['-d', `sql:${db}`, '-u', '1', '-a', leafFile], { encoding: 'utf8' });
      return { status: r.status, out: `${r.stdout}${r.stderr}` };
    };
    expect(nssVerifies(chrome)).toMatchObject({ status: 1, out: expect.stringContaining('Chain is bad') });

    const before = fs.existsSync(SYSTEM_CA_FILE) ? fs.readFileSync(SYSTEM_CA_FILE) : undefined;
    try {
      const first = await dreamIn(home, 'trust', 'install');
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
      expect(first.out).toContain(`Installed ${SYSTEM_CA_FILE}`);
      expect(first.out).toContain(`Chrome/Chromium: added (${chrome}).`);
      expect(first.out).toContain(`Firefox (profile abc123.default-release): added (${firefox}).`);
      for (const db of [chrome, firefox]) {
        expect(nssVerifies(db)).toMatchObject({ status: 0, out: expect.stringContaining('Chain is good') });
      }
      // The system store (curl, openssl): the bundle update-ca-certificates made verifies the handshake.
      const bundle = fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
      const authorized = await new Promise<boolean>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'hello.dream', ca: bundle }, () => { resolve(s.authorized); s.end(); });
        s.on('error', () => resolve(false));
      });
      expect(authorized).toBe(true);

      // Again: replaced, not added twice.
      expect((await dreamIn(home, 'trust', 'install')).code).toBe(0);
      const listed = execFileSync('certutil', ['-L', '-d', `sql:${chrome}`], { encoding: 'utf8' });
      expect(listed.split('\n').filter((l) => l.startsWith(NSS_NICKNAME))).toHaveLength(1);
    } finally {
      if (before) fs.writeFileSync(SYSTEM_CA_FILE, before); else fs.rmSync(SYSTEM_CA_FILE, { force: true });
      execFileSync('update-ca-certificates', [], { stdio: 'ignore' });
    }
  }, 60_000);
});
