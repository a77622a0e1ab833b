// Certificates with real main.ts processes on one data dir and a real ACME server (Pebble): the
// workers of one proxy (DREAM_PROXY_WORKERS=2) share the ACME account, so they share its order
// throttle too.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-workers-'));
  [httpPort, httpsPort, dnsPort] = [await freePort(), await freePort(), await freePort()];
  pebble = await startPebble(path.join(dir, 'pebble'), { httpPort, dnsPort });
  api = await startFakeApi(TOKEN, []);
}, 120_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await api?.close();
  await pebble?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** main.ts on the data dir `data`; resolves once its output matches `ready`. */
async function startMain(o: { workers: number; data: string; ready: RegExp; env?: Record<string, string> }) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/proxy/src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env, DREAM_DATA_DIR: path.join(dir, o.data), DREAM_API_URL: api.url, DREAM_INTERNAL_TOKEN: TOKEN,
      DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort),
      DREAM_DNS_HOST: '127.0.0.1', DREAM_DNS_PORT: String(dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1',
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
});
