// Certificates with real main.ts processes on one data dir and a real ACME server (Pebble): the
// workers of one proxy (DREAM_PROXY_WORKERS=2) share the ACME account, so they share its order
// throttle too; a certificate one process renewed is served by the others at once.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ariCertId } from '../../apps/proxy/src/tls/ari.js';
import { startFakeApi } from './proxy-helpers.js';
import { freePort, startPebble, type Pebble } from './tls-pebble.js';

const TOKEN = 'int_tls_workers';
let dir: string;
let pebble: Pebble;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let httpPort: number;
let httpsPort: number;
let dnsPort: number;
const procs: ReturnType<typeof spawn>[] = [];
/**
 * Pebble 2.4 offers no ARI: a front serving its directory plus `renewalInfo`, "far away" for every
 * certificate except those whose ARI id is in `moved` ("now", as ahead of a revocation).
 */
let front: https.Server;
let ari: { directory: string; moved: Set<string>; asked: string[] };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-workers-'));
  [httpPort, httpsPort, dnsPort] = [await freePort(), await freePort(), await freePort()];
  pebble = await startPebble(path.join(dir, 'pebble'), { httpPort, dnsPort });
  api = await startFakeApi(TOKEN, []);
  const ca = fs.readFileSync(pebble.caFile);
  front = https.createServer({ cert: ca, key: fs.readFileSync(pebble.keyFile) }, (req, res) => {
    if (req.url === '/dir') {
      https.get(pebble.directory, { ca }, (up) => {
        let b = ''; up.on('data', (d) => { b += d; });
        up.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...JSON.parse(b), renewalInfo: `https://127.0.0.1:${(front.address() as { port: number }).port}/ari` })));
      });
      return;
    }
    const id = req.url!.replace('/ari/', '');
    ari.asked.push(id);
    const start = ari.moved.has(id) ? Date.now() - 7200_000 : Date.now() + 1000 * 86_400_000;
    res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '21600' })
      .end(JSON.stringify({ suggestedWindow: { start: new Date(start).toISOString(), end: new Date(start + 3600_000).toISOString() } }));
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  ari = { directory: `https://127.0.0.1:${(front.address() as { port: number }).port}/dir`, moved: new Set(), asked: [] };
}, 120_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await new Promise((r) => (front ? front.close(r) : r(undefined)));
  await api?.close();
  await pebble?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** main.ts on the data dir `data`; resolves once its output matches `ready`. */
async function startMain(o: { workers: number; data: string; ready: RegExp; env?: Record<string, string> }) {
  o.env = { DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort), DREAM_DNS_PORT: String(dnsPort), ...o.env };
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/proxy/src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env, DREAM_DATA_DIR: path.join(dir, o.data), DREAM_API_URL: api.url, DREAM_INTERNAL_TOKEN: TOKEN,
      DREAM_HTTP_HOST: '127.0.0.1', DREAM_DNS_HOST: '127.0.0.1', DREAM_EDGE_ADDRESS: '127.0.0.1',
      DREAM_ACME_DIRECTORY: pebble.directory, DREAM_ACME_CA_BUNDLE: pebble.caFile, DREAM_DREAM_ACME_DIRECTORY: '',
      DREAM_PROXY_WORKERS: String(o.workers), DREAM_ACCESS_LOG: 'off', DREAM_LOG_LEVEL: 'info', ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (c) => { out += c; });
  child.stderr!.on('data', (c) => { out += c; });
  const seen = async (re: RegExp, timeoutMs = 30_000) => {
    for (const end = Date.now() + timeoutMs; !re.test(out);) {
      if (Date.now() > end) throw new Error(`no ${re} in:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await seen(o.ready);
  return { child, seen, out: () => out, exited: new Promise((r) => child.once('exit', r)) };
}

/** Waits until Pebble's order count stops moving for `quietMs`. */
async function ordersSettle(quietMs = 3000): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = pebble.orders();
    if (n !== last) { last = n; since = Date.now(); }
    if (n > 0 && Date.now() - since >= quietMs) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('certificates in a proxy with two workers (real main.ts, Pebble)', () => {
  it('the per-account order throttle (30 an hour) holds for the account, not once per worker', async () => {
    // Each worker counted only its own orders: 45 names → 45 orders within a minute (30 + 15).
    const hosts = Array.from({ length: 45 }, (_, i) => `n${i}.throttle.test`);
    api.setRoutes([{ app: 'many', hosts, endpoints: [{ host: '127.0.0.1', port: 9 }] }]);
    const before = pebble.orders();
    const p = await startMain({ workers: 2, data: 'throttle', ready: /proxy listening[\s\S]*proxy listening/ });
    const issued = () => p.out().match(/"msg":"certificate issued"/g)?.length ?? 0;
    await expect.poll(issued, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(30);
    expect(await ordersSettle(3000) - before).toBe(30);
    expect(issued()).toBe(30);
    // Both workers say why the other 15 wait (dream domains shows whichever reported last).
    const held = new Set([...p.out().matchAll(/"pid":(\d+).*certificate order held back: throttled/g)].map((m) => m[1]));
    expect(held.size).toBe(2);
    p.child.kill('SIGTERM');
    await p.exited;
  }, 120_000);

  it('a certificate one process renewed (the CA moved its window to now) is served by every worker of a sibling on the data dir within seconds, with no new order and no failed handshake', async () => {
    api.setRoutes([{ app: 'web', hosts: ['www.sibling.test'], endpoints: [{ host: '127.0.0.1', port: 9 }] }]);
    const root = await pebble.root();
    const served = (port: number) => new Promise<string>((resolve, reject) => {
      const sock = tls.connect({ host: '127.0.0.1', port, servername: 'www.sibling.test', ca: root }, () => {
        if (!sock.authorized) reject(new Error(String(sock.authorizationError)));
        resolve(new x509.X509Certificate(sock.getPeerCertificate().raw).toString('pem'));
        sock.end();
      });
      sock.on('error', reject);
    });
    // One proxy (two workers) orders…
    const one = await startMain({ workers: 2, data: 'sibling', ready: /"msg":"certificate issued"/, env: { DREAM_ACME_DIRECTORY: ari.directory } });
    // The other worker serves it once it found it stored (a new name: nothing to serve before).
    const all = async () => [...new Set(await Promise.all(Array.from({ length: 20 }, () => served(httpsPort))))];
    await expect.poll(() => all().then((s) => s.length, () => 0), { timeout: 10_000, interval: 250 }).toBe(1);
    const [first] = await all() as [string];
    // Each worker asks the CA about it (the one that adopted it too, at once).
    await expect.poll(() => ari.asked.filter((id) => id === ariCertId(first)).length, { timeout: 10_000 }).toBe(2);
    // Handshakes all along, and requests on one kept-alive connection across the renewal (the app
    // is down: the proxy's 502 is the answer; what matters is that each comes on the same socket).
    const seen = new Map<string, number>();
    const failures: string[] = [];
    let looping = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (looping) {
        try { const pem = await served(httpsPort); seen.set(pem, (seen.get(pem) ?? 0) + 1); } catch (e) { failures.push((e as Error).message); }
      }
    });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: root });
    const sockets = new Set<unknown>();
    const statuses: number[] = [];
    loops.push((async () => {
      while (looping) {
        await new Promise<void>((resolve) => {
          https.get({ host: '127.0.0.1', port: httpsPort, servername: 'www.sibling.test', headers: { host: 'www.sibling.test' }, agent }, (res) => {
            sockets.add(res.socket); statuses.push(res.statusCode!); res.resume(); res.on('end', resolve);
          }).on('error', (e) => { failures.push(`kept-alive: ${e.message}`); resolve(); });
        });
        await new Promise((r) => setTimeout(r, 200));
      }
    })());
    // …the CA moves that certificate's window to now; a second proxy on the same data dir (its own
    // ports, no DNS) starts, asks about it first and renews it. The first one's next question is
    // hours away (Retry-After), and with ARI each process renews at its own point in the window.
    ari.moved.add(ariCertId(first)!);
    const [http2, https2] = [await freePort(), await freePort()];
    const orders = pebble.orders();
    const two = await startMain({ workers: 1, data: 'sibling', ready: /"msg":"certificate issued"/, env: { DREAM_ACME_DIRECTORY: ari.directory, DREAM_HTTP_PORT: String(http2), DREAM_HTTPS_PORT: String(https2), DREAM_DNS_PORT: '0' } });
    const second = await served(https2);
    expect(second).not.toBe(first);
    // Both workers of the first proxy: 20 handshakes in a row, all the new certificate.
    await expect.poll(all, { timeout: 10_000, interval: 250 }).toEqual([second]);
    looping = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect([...seen.keys()].every((pem) => pem === first || pem === second)).toBe(true);
    expect({ sockets: sockets.size, requests: statuses.length > 10, statuses: [...new Set(statuses)] }).toEqual({ sockets: 1, requests: true, statuses: [502] });
    agent.destroy();
    expect(pebble.orders()).toBe(orders + 1);
    expect(one.out().match(/certificate stored by another process on the data dir; serving it/g)?.length).toBeGreaterThanOrEqual(2);
    for (const p of [one, two]) { p.child.kill('SIGTERM'); await p.exited; }
  }, 120_000);
});
