// Proxy restarts with WebSockets open, with real main.ts processes: a SIGHUP reload (2 workers) and
// a handover to a new process close every relayed WebSocket (ws:// and wss://) with a Close frame,
// 1001 "going away", on both ends. They were cut without one: clients saw 1006 (wasClean false).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { makeTestCerts, startFakeApi } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_reload_ws';
const HOST = 'web.dream';
let dataDir: string;
let app: http.Server;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let httpPort: number;
let httpsPort: number;
/** Close codes the app received. */
const appSaw: number[] = [];
const procs: ReturnType<typeof spawn>[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-reload-ws-'));
  app = http.createServer((_req, res) => res.end('ok'));
  const wss = new WebSocketServer({ server: app });
  wss.on('connection', (ws) => {
    ws.on('message', (m) => ws.send(String(m)));
    ws.on('close', (code) => appSaw.push(code));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  const port = (app.address() as AddressInfo).port;
  api = await startFakeApi(TOKEN, [{ app: 'web', hosts: [HOST], endpoints: [{ host: '127.0.0.1', port }] }]);
  await makeTestCerts(dataDir, [HOST]);
  httpPort = await freePort();
  httpsPort = await freePort();
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  app.closeAllConnections();
  await new Promise((r) => app.close(r));
  await api.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** main.ts on the shared ports and data dir; resolves once its output matches `ready`. */
async function startMain(workers: number, ready: RegExp) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/proxy/src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env, DREAM_DATA_DIR: path.join(dataDir, 'data'), DREAM_API_URL: api.url, DREAM_INTERNAL_TOKEN: TOKEN,
      DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort), DREAM_DNS_PORT: '0',
      DREAM_PROXY_WORKERS: String(workers), DREAM_TLS_CERT_FILE: path.join(dataDir, 'leaf.pem'), DREAM_TLS_KEY_FILE: path.join(dataDir, 'leaf.key'),
      DREAM_ACCESS_LOG: 'off', DREAM_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(child);
  let out = '';
  const seen = (re: RegExp) => new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${re} in:\n${out.slice(-2000)}`)), 15_000);
    const check = () => { if (re.test(out)) { clearTimeout(t); resolve(); } };
    child.stdout!.on('data', (c) => { out += c; check(); });
    child.stderr!.on('data', (c) => { out += c; check(); });
  });
  await seen(ready);
  return { child, seen, exited: new Promise((r) => child.once('exit', r)) };
}

/** Opens ws:// and wss:// WebSockets through the proxy, each echoing once; resolves with their close codes to come. */
async function openSockets(n: number): Promise<Promise<number>[]> {
  const closes: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    const tls = i % 2 === 1;
    const ws = new WebSocket(`${tls ? 'wss' : 'ws'}://127.0.0.1:${tls ? httpsPort : httpPort}/`, { headers: { host: HOST }, servername: HOST, rejectUnauthorized: false } as WebSocket.ClientOptions);
    ws.on('error', () => {});
    closes.push(new Promise((r) => ws.once('close', (code) => r(code))));
    await new Promise<void>((resolve, reject) => { ws.once('open', () => ws.send(`m${i}`)); ws.once('message', () => resolve()); ws.once('close', () => reject(new Error('closed before echo'))); });
  }
  return closes;
}

describe('WebSockets across proxy restarts', () => {
  it('a SIGHUP reload (2 workers) closes each with 1001 going away, on both ends', async () => {
    const p = await startMain(2, /proxy listening[\s\S]*proxy listening/);
    appSaw.length = 0;
    const closes = await openSockets(6);
    p.child.kill('SIGHUP');
    const codes = await Promise.all(closes);
    expect(codes).toEqual(codes.map(() => 1001));
    await expect.poll(() => appSaw.length, { timeout: 5000 }).toBe(6);
    expect(appSaw).toEqual(appSaw.map(() => 1001));
    await p.seen(/proxy workers reloaded/);
    p.child.kill('SIGTERM');
    await p.exited;
  }, 30_000);

  it('a handover to a new process (1 worker) closes each with 1001 going away, on both ends', async () => {
    const old = await startMain(1, /proxy listening/);
    appSaw.length = 0;
    const closes = await openSockets(4);
    const next = await startMain(1, /handover: took over the listeners/);
    const codes = await Promise.all(closes);
    expect(codes).toEqual([1001, 1001, 1001, 1001]);
    await expect.poll(() => appSaw.length, { timeout: 5000 }).toBe(4);
    expect(appSaw).toEqual([1001, 1001, 1001, 1001]);
    // Clients reconnect to the new process.
    expect((await openSockets(2)).length).toBe(2);
    old.child.kill('SIGTERM');
    next.child.kill('SIGTERM');
    await Promise.all([old.exited, next.exited]);
  }, 30_000);
});
