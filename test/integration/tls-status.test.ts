// What `dream domains` shows when the CA's answer is not an ACME problem document: a CA behind a
// load balancer or CDN that answers an outage with its HTML error page. acme-client puts the whole
// page, JSON-quoted, into its error message. A real api (listening), the certificate stack reporting
// to it, the real CLI, and a small HTTPS server standing in for that CA.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi } from '../../apps/api/src/test-support.js';
import { run } from '../../apps/cli/src/run.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { selfSigned } from './tls-pebble.js';

let t: Awaited<ReturnType<typeof testApi>>;
let apiUrl: string;
let certs: Certificates;
let ca: https.Server;

/** A typical CDN outage page (~6 KB: inline styles, a ray id, a footer). */
const OUTAGE_PAGE = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>503 Service Temporarily Unavailable | acme.example.test</title>\n<style>${'body{font-family:system-ui}.cf-error{margin:0 auto;max-width:60rem}\n'.repeat(80)}</style>\n</head>\n<body>\n<div class="cf-error"><h1>Service Temporarily Unavailable</h1>\n<p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p>\n<p>Ray ID: 7d1f0c2a9b3e4f56</p></div>\n</body>\n</html>\n`;

async function dream(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''; let err = '';
  const io = { stdout: (s: string) => { out += s; }, stderr: (s: string) => { err += s; }, env: { HOME: path.join(t.dataDir, 'home') }, stdin: process.stdin, now: () => new Date() };
  const code = await run(['--url', apiUrl, '--token', t.admin, ...argv], io);
  return { code, out, err };
}

beforeAll(async () => {
  t = await testApi();
  apiUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
  fs.mkdirSync(path.join(t.dataDir, 'ca'), { recursive: true });
  const { cert, key } = await selfSigned(path.join(t.dataDir, 'ca'));
  let base = '';
  ca = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
    if (req.url === '/directory') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order`, revokeCert: `${base}/revoke`, keyChange: `${base}/key-change` }));
    } else if (req.url === '/nonce') {
      res.writeHead(200, { 'replay-nonce': `n${Date.now()}`, 'cache-control': 'no-store' }).end();
    } else {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/html; charset=UTF-8', 'replay-nonce': `n${Date.now()}` }).end(OUTAGE_PAGE);
    }
  });
  await new Promise<void>((r) => ca.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(ca.address() as { port: number }).port}`;
  certs = await startCertificates({
    config: loadConfig({ DREAM_DATA_DIR: t.dataDir, DREAM_API_URL: apiUrl, DREAM_ACME_DIRECTORY: `${base}/directory`, DREAM_ACME_CA_BUNDLE: cert, DREAM_DREAM_ACME_DIRECTORY: '' }),
    token: t.internalToken, proxyId: 'proxy-status',
  });
}, 60_000);

afterAll(async () => {
  await certs?.close();
  if (ca) await new Promise((r) => ca.close(r));
  await t?.app.close();
});

describe('dream domains when the CA answers with a web page', () => {
  it('the name says failing with a readable reason, and the other names\' status still reaches the api', async () => {
    expect((await dream('apps', 'create', 'hello')).code).toBe(0);
    expect((await dream('domains', 'add', 'hello', 'www.example.test')).code).toBe(0);
    t.routes.set('hello', ['hello.dream'], [{ host: '127.0.0.1', port: 5000 }]);
    certs.certs.ensure(t.routes.snapshot().routes.flatMap((r) => r.hosts));
    await certs.certs.tick();
    const failing = certs.certs.status().find((s) => s.host === 'www.example.test')!;
    expect(failing.state).toBe('failing');
    expect(failing.error!.length).toBeLessThan(500);
    expect(failing.error).toContain('503 Service Temporarily Unavailable');

    await expect.poll(() => t.store.domains.certStatus('hello.dream')?.state, { timeout: 5000 }).toBe('issued');
    await expect.poll(() => t.store.domains.certStatus('www.example.test')?.state, { timeout: 5000 }).toBe('failing');
    const list = await dream('domains', 'hello');
    expect(list.out).toMatch(/hello\.dream\s+automatic\s+issued\s+DreamNet built-in CA/);
    expect(list.out).toMatch(/www\.example\.test\s+custom\s+failing\s+127\.0\.0\.1:\d+\s+.*503 Service Temporarily Unavailable.* \(next try /);
  }, 60_000);
});
