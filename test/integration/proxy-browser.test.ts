// What a user's browser sees of a `.dream` app: a real headless Chromium (browser/cdp.ts) in front
// of the real proxy (main.ts, built-in .dream CA, no ACME directory), a fake api routing hello.dream
// to a real app whose page opens a WebSocket back to its own origin. Chromium takes its roots from
// $HOME/.pki/nssdb: one HOME without the platform root, one where it was added as `dream trust
// install` adds it (trust-stores.ts), so the certificate check is the browser's own.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { certutilSteps, nssDatabases } from '../../apps/cli/src/commands/trust-stores.js';
import { ensureTestDeps } from '../../scripts/ensure-test-deps.js';
import { launchChromium, type Browser, type Page } from './browser/cdp.js';
import { spawnMain, startFakeApi, type MainProcess } from './proxy-helpers.js';
import { closeServer, listen } from './proxy-helpers/servers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_proxy_browser';
const ROOT_NAME = 'DreamNet Local Root (.dream)';
// The page: opens ws(s)://<its own origin>/ws, sends a line, writes the echo into #out.
const PAGE = `<!doctype html><title>hello</title><p id="out">waiting</p><script>
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
ws.onopen = () => ws.send('hi from ' + location.protocol);
ws.onmessage = (e) => { document.getElementById('out').textContent = e.data; };
ws.onerror = () => { document.getElementById('out').textContent = 'ws error'; };
</script>`;

let dir: string;
let app: http.Server;
let wss: WebSocketServer;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let proxy: MainProcess;
let httpPort: number;
let httpsPort: number;
let untrusted: Browser;
let trusted: Browser;

/** An empty NSS database in `home`'s Chrome place, as a first browser start leaves it. */
function nssdb(home: string): string {
  const db = path.join(home, '.pki/nssdb');
  fs.mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
  return db;
}

/** Navigates a fresh page; resolves with Page.navigate's answer and, if it loaded, the load event. */
async function open(b: Browser, url: string): Promise<{ page: Page; errorText?: string; ms: number }> {
  const page = await b.newPage();
  const t0 = Date.now();
  const nav = await page.send('Page.navigate', { url });
  if (!nav.errorText) await page.waitFor('Page.loadEventFired');
  return { page, errorText: nav.errorText, ms: Date.now() - t0 };
}

beforeAll(async () => {
  await ensureTestDeps(); // installs chromium (root, Debian) or throws saying how
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-browser-'));
  app = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE));
  wss = new WebSocketServer({ server: app, path: '/ws' });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo: ${String(m)}`)));
  const appPort = await listen(app);
  api = await startFakeApi(TOKEN, [{ app: 'hello', hosts: ['hello.dream'], endpoints: [{ host: '127.0.0.1', port: appPort }] }]);
  [httpPort, httpsPort] = [await freePort(), await freePort()];
  const data = path.join(dir, 'data');
  proxy = spawnMain({
    DREAM_DATA_DIR: data, DREAM_API_URL: api.url, DREAM_INTERNAL_TOKEN: TOKEN,
    DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort), DREAM_DNS_PORT: '0',
    DREAM_PROXY_WORKERS: '1', DREAM_DREAM_ACME_DIRECTORY: '', DREAM_ACCESS_LOG: 'off', DREAM_LOG_LEVEL: 'info',
  });
  await proxy.seen(/"msg":"certificate issued"/);
  await proxy.seen(/proxy listening/);

  const plainHome = path.join(dir, 'home-untrusted');
  nssdb(plainHome);
  const trustHome = path.join(dir, 'home-trusted');
  nssdb(trustHome);
  const rootPem = path.join(data, 'tls/ca/root.pem');
  const look = { exists: (f: string) => fs.existsSync(f), list: (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []) };
  const dbs = nssDatabases(trustHome, look);
  expect(dbs.map((d) => d.browser)).toEqual(['Chrome/Chromium']);
  for (const db of dbs) {
    const [remove, add] = certutilSteps(db.dir, rootPem);
    spawnSync('certutil', remove!); // nothing to remove in a new database: its failure is expected
    execFileSync('certutil', add!);
  }
  const rules = ['--host-resolver-rules=MAP hello.dream 127.0.0.1,MAP *.dream 127.0.0.1'];
  [untrusted, trusted] = await Promise.all([launchChromium(plainHome, rules), launchChromium(trustHome, rules)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([untrusted?.close(), trusted?.close()]);
  if (proxy) { proxy.child.kill('SIGTERM'); await proxy.exited; }
  await api?.close();
  for (const c of wss?.clients ?? []) c.terminate();
  wss?.close();
  if (app) await closeServer(app);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a real browser (headless Chromium) in front of the proxy with the built-in .dream CA', () => {
  it('without the platform root in its NSS database, the browser refuses the certificate', async () => {
    const r = await open(untrusted, `https://hello.dream:${httpsPort}/`);
    expect(r.errorText).toBe('net::ERR_CERT_AUTHORITY_INVALID');
    const failed = await r.page.waitFor('Network.loadingFailed');
    expect(failed.errorText).toBe('net::ERR_CERT_AUTHORITY_INVALID');
  });

  it('with the root installed: 200 over HTTP/2, a certificate for hello.dream issued by the root, and the page\'s wss echo in the DOM', async () => {
    const url = `https://hello.dream:${httpsPort}/`;
    const r = await open(trusted, url);
    expect(r.errorText).toBeUndefined();
    const { response } = await r.page.waitFor('Network.responseReceived', (p) => p.type === 'Document');
    expect({ status: response.status, protocol: response.protocol, securityState: response.securityState }).toEqual({ status: 200, protocol: 'h2', securityState: 'secure' });
    const sd = response.securityDetails;
    expect({ issuer: sd.issuer, subject: sd.subjectName, san: sd.sanList }).toEqual({ issuer: ROOT_NAME, subject: 'hello.dream', san: ['hello.dream'] });
    expect(await r.page.evaluate(`performance.getEntriesByType('navigation')[0].nextHopProtocol`)).toBe('h2');
    await expect.poll(() => r.page.evaluate(`document.getElementById('out').textContent`), { timeout: 5000 }).toBe('echo: hi from https:');
    const ws = await r.page.waitFor('Network.webSocketHandshakeResponseReceived');
    expect(ws.response.status).toBe(101);
    expect((await r.page.waitFor('Network.webSocketCreated')).url).toBe(`wss://hello.dream:${httpsPort}/ws`);
    const timing = await r.page.evaluate(`JSON.stringify(performance.getEntriesByType('navigation')[0].toJSON())`);
    console.log(`[browser] ${url}: ${r.ms} ms to load event; issuer ${sd.issuer}, ${sd.protocol} ${sd.cipher}; navigation timing ${timing}`);
  });

  it('http://hello.dream/ redirects the browser to the HTTPS URL (port kept), where the page and its wss work; ws:// still passes', async () => {
    const r = await open(trusted, `http://hello.dream:${httpPort}/`);
    expect(r.errorText).toBeUndefined();
    const redirected = await r.page.waitFor('Network.requestWillBeSent', (p) => p.redirectResponse);
    expect({ status: redirected.redirectResponse.status, location: redirected.redirectResponse.headers.location ?? redirected.redirectResponse.headers.Location })
      .toEqual({ status: 308, location: `https://hello.dream:${httpsPort}/` });
    expect(await r.page.evaluate('location.href')).toBe(`https://hello.dream:${httpsPort}/`);
    await expect.poll(() => r.page.evaluate(`document.getElementById('out').textContent`), { timeout: 5000 }).toBe('echo: hi from https:');
    // A plain ws:// is not redirected (a client cannot follow one mid-handshake): it still passes.
    const blank = await trusted.newPage();
    expect(await blank.evaluate(`new Promise((resolve) => {
      const ws = new WebSocket('ws://hello.dream:${httpPort}/ws');
      ws.onopen = () => ws.send('plain');
      ws.onmessage = (e) => { resolve(e.data); ws.close(); };
      ws.onerror = () => resolve('ws error');
    })`)).toBe('echo: plain');
  });

  // https.ts has no certificate for the name (and there is no default one): the handshake ends with
  // a TLS alert (handshake_failure), which Chromium reports as ERR_SSL_VERSION_OR_CIPHER_MISMATCH, at
  // once. Before, node closed the connection mid-handshake with no alert: ERR_CONNECTION_CLOSED,
  // which reads as a network fault. (nginx's ssl_reject_handshake sends unrecognized_name, which
  // node cannot.)
  it('an unknown name: the handshake fails with a TLS alert; the browser shows ERR_SSL_VERSION_OR_CIPHER_MISMATCH at once', async () => {
    const r = await open(trusted, `https://nope.dream:${httpsPort}/`);
    expect(r.errorText).toBe('net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH');
    expect(r.ms).toBeLessThan(2000);
  });
});
