// An ACME server that accepts connections and never answers (a hung CA, a black-holed load
// balancer, a half-open connection after a network change), with real main.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi } from './proxy-helpers.js';
import { freePort, selfSigned } from './tls-pebble.js';

const TOKEN = 'int_tls_hung';
let dir: string;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let ca: https.Server;
let caFile: string;
let directory: string;
/** Requests the CA got (and never answered). */
const asked: string[] = [];
const held = new Set<net.Socket>();
const procs: ReturnType<typeof spawn>[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-hung-'));
  const { cert, key } = await selfSigned(dir);
  caFile = cert;
  ca = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req) => { asked.push(`${req.method} ${req.url}`); });
  ca.on('connection', (s: net.Socket) => { held.add(s); s.on('close', () => held.delete(s)); });
  await new Promise<void>((r) => ca.listen(0, '127.0.0.1', r));
  directory = `https://127.0.0.1:${(ca.address() as { port: number }).port}/directory`;
  api = await startFakeApi(TOKEN, [{ app: 'web', hosts: ['www.hung.test'], endpoints: [{ host: '127.0.0.1', port: 9 }] }]);
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const s of held) s.destroy();
  if (ca) await new Promise((r) => ca.close(r));
  await api?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startMain(env: Record<string, string> = {}) {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/proxy/src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env, DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_API_URL: api.url, DREAM_INTERNAL_TOKEN: TOKEN,
      DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort), DREAM_DNS_PORT: '0',
      DREAM_ACME_DIRECTORY: directory, DREAM_ACME_CA_BUNDLE: caFile, DREAM_DREAM_ACME_DIRECTORY: '',
      DREAM_PROXY_WORKERS: '1', DREAM_ACCESS_LOG: 'off', DREAM_LOG_LEVEL: 'info', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (c) => { out += c; });
  child.stderr!.on('data', (c) => { out += c; });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

describe('an ACME server that never answers', () => {
  it('the order gives up (30 s per request) with a reason, its lock released, so backoff and siblings take over', async () => {
    const p = await startMain();
    await expect.poll(p.out, { timeout: 20_000 }).toMatch(/"msg":"ordering certificate"/);
    await expect.poll(() => asked.length, { timeout: 10_000 }).toBeGreaterThan(0);
    // acme-client waits for an answer forever: the order never ended, its lock was refreshed for as
    // long as the process lived (no sibling could order the name), and the status said 'pending'.
    await expect.poll(p.out, { timeout: 45_000, interval: 500 }).toMatch(/"msg":"certificate order failed"/);
    const failed = p.out().split('\n').find((l) => l.includes('"msg":"certificate order failed"'))!;
    expect(JSON.parse(failed)).toMatchObject({ host: 'www.hung.test', err: expect.stringMatching(/^cannot reach the ACME server 127\.0\.0\.1:\d+: it did not answer within 5 s$/) });
    expect(fs.readdirSync(path.join(dir, 'data/tls/locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
    expect(asked.some((r) => r.startsWith('GET /directory'))).toBe(true);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 120_000);

  it('SIGTERM during an order that hangs stops the proxy within seconds', async () => {
    fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
    const before = asked.length;
    const p = await startMain();
    await expect.poll(p.out, { timeout: 20_000 }).toMatch(/"msg":"ordering certificate"/);
    await expect.poll(() => asked.length, { timeout: 10_000 }).toBeGreaterThan(before);
    p.child.kill('SIGTERM');
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
    expect(code).toBe(0);
  }, 60_000);

  it('a proxy killed (kill -9) mid-order: the next one on the data dir orders the name at once, not after the lock\'s 2 min', async () => {
    fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
    let before = asked.length;
    const killed = await startMain();
    await expect.poll(() => asked.length, { timeout: 20_000 }).toBeGreaterThan(before);
    expect(fs.readdirSync(path.join(dir, 'data/tls/locks')).filter((f) => f.endsWith('.lock'))).not.toEqual([]);
    killed.child.kill('SIGKILL');
    await killed.exited;
    before = asked.length;
    const t0 = Date.now();
    const next = await startMain();
    await expect.poll(next.out, { timeout: 20_000 }).toMatch(/"msg":"ordering certificate"/);
    await expect.poll(() => asked.length, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(Date.now() - t0).toBeLessThan(20_000);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  }, 60_000);
});
