// Proxy lifecycle: graceful close, api outage and recovery, and the real process (main.ts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { startProxy } from '../../apps/proxy/src/index.js';
import { deadPort, request, spawnMain, startFakeApi, startUpstream } from './proxy-helpers.js';

const TOKEN = 'int_lifecycle-token';
const log = pino({ level: 'silent' });
let dataDir: string;
let up: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-life-'));
  up = await startUpstream('U');
});
afterAll(async () => {
  await up?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const cfg = (apiUrl: string, extra: Record<string, string> = {}) =>
  loadConfig({ DREAM_DATA_DIR: fs.mkdtempSync(path.join(dataDir, 'd')), DREAM_API_URL: apiUrl, DREAM_LOG_LEVEL: 'silent', ...extra });

describe('proxy lifecycle', () => {
  it('close() stops accepting but lets an in-flight request finish', async () => {
    const api = await startFakeApi(TOKEN, [{ app: 'u', hosts: ['u.dream'], endpoints: [up.endpoint] }]);
    const proxy = await startProxy({ config: cfg(api.url), token: TOKEN, log, port: 0, host: '127.0.0.1' });
    await proxy.routes.synced;
    const slow = request(proxy.port, 'u.dream', '/slow?ms=600');
    await new Promise((r) => setTimeout(r, 100));
    const closed = proxy.close();
    await new Promise((r) => setTimeout(r, 50));
    await expect(request(proxy.port, 'u.dream')).rejects.toThrow(/ECONNREFUSED/);
    const r = await slow;
    expect(r.status).toBe(200);
    await closed;
    await api.close();
  });

  it('keeps routing while the api is down and picks up changes once it is back', async () => {
    const apiPort = await deadPort();
    // Nothing listens at the api address yet: the proxy has never had a table, and says so after
    // the wait for it (not 404: it cannot know the app is not there).
    const proxy = await startProxy({ config: cfg(`http://127.0.0.1:${apiPort}`), token: TOKEN, log, port: 0, host: '127.0.0.1', firstTableWaitMs: 300 });
    try {
      const none = await request(proxy.port, 'u.dream');
      expect([none.status, none.headers['x-dream-error']]).toEqual([503, 'ROUTES_NOT_LOADED']);
      // The api comes up on that port; the proxy (backing off meanwhile) syncs.
      const routes = [{ app: 'u', hosts: ['u.dream'], endpoints: [up.endpoint] }];
      let api = await startFakeApi(TOKEN, routes, { port: apiPort, version: 5 });
      await proxy.routes.waitForVersion(5);
      expect((await request(proxy.port, 'u.dream')).status).toBe(200);
      // The api goes down: the last table keeps serving.
      await api.close();
      await new Promise((r) => setTimeout(r, 500));
      expect((await request(proxy.port, 'u.dream')).status).toBe(200);
      // It comes back with a newer table: the proxy applies it and acks.
      api = await startFakeApi(TOKEN, [{ app: 'v', hosts: ['v.dream'], endpoints: [up.endpoint] }], { port: apiPort, version: 6 });
      await proxy.routes.waitForVersion(6);
      await api.waitForAck(6);
      expect((await request(proxy.port, 'v.dream')).status).toBe(200);
      expect((await request(proxy.port, 'u.dream')).status).toBe(404);
      await api.close();
      // A restarted api counts versions from scratch and may land on ours with other routes:
      // the proxy must notice, and ack to the new instance.
      api = await startFakeApi(TOKEN, [{ app: 'w', hosts: ['w.dream'], endpoints: [up.endpoint] }], { port: apiPort, version: 6 });
      await api.waitForAck(6);
      expect((await request(proxy.port, 'w.dream')).status).toBe(200);
      expect((await request(proxy.port, 'v.dream')).status).toBe(404);
      await api.close();
      // Same version, same routes: nothing to apply, but the new instance still gets its ack.
      api = await startFakeApi(TOKEN, [{ app: 'w', hosts: ['w.dream'], endpoints: [up.endpoint] }], { port: apiPort, version: 6 });
      expect((await api.waitForAck(6)).proxy).toBe(proxy.routes.proxyId);
      await api.close();
    } finally {
      await proxy.close();
    }
  });

  it('rejects a wrong internal token loudly and serves nothing it was not told', async () => {
    const api = await startFakeApi(TOKEN, [{ app: 'u', hosts: ['u.dream'], endpoints: [up.endpoint] }]);
    const lines: string[] = [];
    const capture = pino({ level: 'warn' }, { write: (l: string) => { lines.push(l); } });
    const proxy = await startProxy({ config: cfg(api.url), token: 'wrong', log: capture, port: 0, host: '127.0.0.1', firstTableWaitMs: 300 });
    await new Promise((r) => setTimeout(r, 300));
    const none = await request(proxy.port, 'u.dream');
    expect([none.status, none.headers['x-dream-error']]).toEqual([503, 'ROUTES_NOT_LOADED']);
    expect(lines.join('')).toMatch(/rejected the internal token \(HTTP 401\)/);
    await proxy.close();
    await api.close();
  });

  it('main.ts serves, answers its health check and exits 0 on SIGTERM', async () => {
    const api = await startFakeApi(TOKEN, [{ app: 'u', hosts: ['u.dream'], endpoints: [up.endpoint] }]);
    const port = await deadPort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/proxy/src/main.ts'], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, DREAM_DATA_DIR: fs.mkdtempSync(path.join(dataDir, 'm')), DREAM_API_URL: api.url, DREAM_INTERNAL_TOKEN: TOKEN, DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(port), DREAM_HTTPS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 200 && !out.includes('routes acked'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('proxy listening');
      expect((await request(port, 'x.dream', '/__dream/healthz')).status).toBe(200);
      const r = await request(port, 'u.dream');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).name).toBe('U');
      expect(api.acks.map((a) => a.version)).toContain(api.version);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('proxy closed');
    } finally {
      child.kill('SIGKILL');
      await api.close();
    }
  });

  it('main.ts with the access log on (the default) survives an upload that arrived whole with its head, and logs it', async () => {
    // Such a body goes to undici as the request itself; undici, done with it, sets req.socket to
    // null, and the access-log entry read req.socket.bytesWritten there: TypeError, exit 1.
    const api = await startFakeApi(TOKEN, [{ app: 'u', hosts: ['u.dream'], endpoints: [up.endpoint] }]);
    const port = await deadPort();
    const p = spawnMain({ DREAM_DATA_DIR: fs.mkdtempSync(path.join(dataDir, 'm')), DREAM_API_URL: api.url, DREAM_INTERNAL_TOKEN: TOKEN, DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(port), DREAM_HTTPS_PORT: '0' });
    try {
      await p.seen(/routes applied/);
      const r = await request(port, 'u.dream', '/upload', { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'abc' });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ name: 'U', bytes: 3 });
      await new Promise((r) => setTimeout(r, 500));
      expect(p.child.exitCode, p.out().slice(-2000)).toBeNull();
      expect((await request(port, 'u.dream')).status).toBe(200);
      // The access log is buffered; stopping flushes it.
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      const entry = JSON.parse(p.out().split('\n').find((l) => l.includes('"path":"/upload"'))!) as { status: number; bytes: number; upstream: string };
      expect(entry).toMatchObject({ status: 200, upstream: `${up.endpoint.host}:${up.endpoint.port}` });
      expect(entry.bytes).toBeGreaterThan(r.body.length);
    } finally {
      p.child.kill('SIGKILL');
      await api.close();
    }
  });
});
