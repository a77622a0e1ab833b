// The built-in .dream CA end to end, with no .dream ACME directory: a real api (listening), the
// certificate stack reporting status to it, `dream domains` and `dream trust` through the real CLI,
// and a real TLS handshake verified against the root the api hands out.
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi } from '../../apps/api/src/test-support.js';
import { run } from '../../apps/cli/src/run.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { freePort } from './tls-pebble.js';

let t: Awaited<ReturnType<typeof testApi>>;
let apiUrl: string;
let certs: Certificates;
let server: tls.Server;
let deadPort: number;

async function dream(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''; let err = '';
  const io = { stdout: (s: string) => { out += s; }, stderr: (s: string) => { err += s; }, env: { DREAM_URL: apiUrl, DREAM_TOKEN: t.admin, HOME: path.join(t.dataDir, 'home') }, stdin: process.stdin, now: () => new Date() };
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
  await new Promise((r) => server?.close(r));
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
});
