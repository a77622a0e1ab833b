// The proxy against a contract-faithful fake api and real upstream servers on 127.0.0.1.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { deadPort, request, startFakeApi, startUpstream, wsPing, type TestRoute } from './proxy-helpers.js';

const TOKEN = 'int_test-token';
const log = pino({ level: 'silent' });
let dataDir: string;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let a: Awaited<ReturnType<typeof startUpstream>>;
let b: Awaited<ReturnType<typeof startUpstream>>;
let proxy: ProxyHandle;

const config = () => loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', DREAM_DRAIN_TIMEOUT_MS: '10000' });
const start = () => startProxy({ config: config(), token: TOKEN, log, port: 0, host: '127.0.0.1' });

/** Publishes routes and waits until the proxy routes by them. */
async function publish(routes: TestRoute[]): Promise<number> {
  const v = api.setRoutes(routes);
  await proxy.routes.waitForVersion(v);
  return v;
}
const json = (body: string) => JSON.parse(body) as { name: string; headers: Record<string, string> };

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-test-'));
  a = await startUpstream('A');
  b = await startUpstream('B');
  api = await startFakeApi(TOKEN, [
    { app: 'hello', hosts: ['hello.dream'], endpoints: [a.endpoint, b.endpoint] },
    { app: 'solo', hosts: ['solo.dream', 'solo.example.com'], endpoints: [b.endpoint] },
    { app: 'empty', hosts: ['empty.dream'], endpoints: [] },
  ]);
  proxy = await start();
  await proxy.routes.synced;
});

afterAll(async () => {
  await proxy?.close();
  await api?.close();
  await a?.close();
  await b?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('proxy routing', () => {
  it('answers its own health check on any host', async () => {
    const r = await request(proxy.port, 'whatever.invalid', '/__dream/healthz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ status: 'ok' });
  });

  it('routes by Host header (case, port and trailing dot ignored)', async () => {
    for (const host of ['solo.dream', 'SOLO.dream', `solo.dream:${proxy.port}`, 'solo.example.com.']) {
      const r = await request(proxy.port, host, '/x?y=1');
      expect(r.status, host).toBe(200);
      expect(json(r.body)).toMatchObject({ name: 'B', url: '/x?y=1' });
    }
  });

  it('round-robins across both endpoints', async () => {
    const names = [];
    for (let i = 0; i < 6; i++) names.push(json((await request(proxy.port, 'hello.dream')).body).name);
    expect(names.filter((n) => n === 'A')).toHaveLength(3);
    expect(names.filter((n) => n === 'B')).toHaveLength(3);
    for (let i = 1; i < names.length; i++) expect(names[i]).not.toBe(names[i - 1]);
  });

  it('404s an unknown host with a clear body, text or JSON', async () => {
    const r = await request(proxy.port, 'nope.dream');
    expect(r.status).toBe(404);
    expect(r.body).toBe('No app is served at nope.dream.\n');
    const j = await request(proxy.port, 'nope.dream:8080', '/', { headers: { accept: 'application/json' } });
    expect(j.status).toBe(404);
    expect(JSON.parse(j.body)).toMatchObject({ statusCode: 404, code: 'NO_ROUTE', message: 'No app is served at nope.dream.' });
  });

  it('503s an app with no endpoints, with Retry-After', async () => {
    const r = await request(proxy.port, 'empty.dream');
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBeDefined();
    expect(r.body).toBe('empty has no healthy replica right now.\n');
  });

  it('overwrites client-sent X-Forwarded-* and keeps a valid X-Request-Id', async () => {
    const r = await request(proxy.port, 'solo.dream', '/', {
      headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.com', 'x-request-id': 'client-req-0001' },
    });
    const h = json(r.body).headers;
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('solo.dream');
    expect(h.host).toBe('solo.dream');
    expect(h['x-request-id']).toBe('client-req-0001');
    expect(r.headers['x-request-id']).toBe('client-req-0001');
    const gen = json((await request(proxy.port, 'solo.dream', '/', { headers: { 'x-request-id': 'bad id!' } })).body).headers['x-request-id'];
    expect(gen).toMatch(/^[0-9a-f]{32}$/);
  });

  it('converts absolute-form targets and refuses ones it cannot forward', async () => {
    // node's client sends the path verbatim, so these go out as absolute-form and asterisk-form.
    const abs = await request(proxy.port, 'nope.dream', 'http://solo.dream/abs?q=1');
    expect(abs.status).toBe(200);
    const echoed = json(abs.body);
    expect(echoed).toMatchObject({ name: 'B', url: '/abs?q=1' });
    expect(echoed.headers.host).toBe('solo.dream');
    expect((await request(proxy.port, 'solo.dream', '*', { method: 'OPTIONS' })).status).toBe(400);
  });

  it('streams request bodies through', async () => {
    const body = 'x'.repeat(3 * 1024 * 1024);
    const r = await request(proxy.port, 'solo.dream', '/upload', { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ name: 'B', bytes: body.length });
  });

  it('streams large responses through intact', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: proxy.port, path: '/big?mb=8', headers: { host: 'solo.dream' } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(Buffer.concat(parts)));
      }).on('error', reject);
    });
    expect(body.length).toBe(8 * 1024 * 1024);
    for (let i = 0; i < 128; i++) expect(body[i * 65536 + 65535], `chunk ${i}`).toBe(i % 256);
  });

  it('passes WebSocket upgrades through', async () => {
    const got = await wsPing(`ws://127.0.0.1:${proxy.port}/ws`, { headers: { host: 'solo.dream' } });
    expect(got).toBe('B:ping:127.0.0.1');
  });

  it('rejects a WebSocket to an unknown host with 404', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`, { headers: { host: 'nope.dream' } });
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);
  });

  it('retries a refused endpoint on another one', async () => {
    const dead = await deadPort();
    await publish([{ app: 'flaky', hosts: ['flaky.dream'], endpoints: [{ host: '127.0.0.1', port: dead }, a.endpoint] }]);
    for (let i = 0; i < 6; i++) {
      const r = await request(proxy.port, 'flaky.dream');
      expect(r.status).toBe(200);
      expect(json(r.body).name).toBe('A');
    }
    // POST with a body is retried too when the connection never came up (nothing was sent).
    const p = await request(proxy.port, 'flaky.dream', '/upload', { method: 'POST', body: 'hello' });
    expect(JSON.parse(p.body)).toEqual({ name: 'A', bytes: 5 });
  });

  it('502s with a clear body when every endpoint refuses', async () => {
    await publish([{ app: 'down', hosts: ['down.dream'], endpoints: [{ host: '127.0.0.1', port: await deadPort() }] }]);
    const r = await request(proxy.port, 'down.dream');
    expect(r.status).toBe(502);
    expect(r.body).toMatch(/^down did not answer/);
  });

  it('acks a version only after in-flight requests to removed endpoints finish', async () => {
    await publish([{ app: 'slow', hosts: ['slow.dream'], endpoints: [a.endpoint] }]);
    const before = a.received.length;
    const slowStarted = Date.now();
    const slow = request(proxy.port, 'slow.dream', '/slow?ms=1500').then((r) => ({ ...r, doneAt: Date.now() }));
    while (a.received.length === before) await new Promise((r) => setTimeout(r, 10));
    const v = await publish([{ app: 'slow', hosts: ['slow.dream'], endpoints: [b.endpoint] }]);
    // New requests already go to B while the slow one drains from A.
    expect(json((await request(proxy.port, 'slow.dream')).body).name).toBe('B');
    await new Promise((r) => setTimeout(r, 300));
    expect(api.acks.find((x) => x.version === v)).toBeUndefined();
    const ack = await api.waitForAck(v);
    const done = await slow;
    expect(done.status).toBe(200);
    expect(json(done.body).name).toBe('A');
    expect(ack.proxy).toBe(proxy.routes.proxyId);
    expect(ack.at).toBeGreaterThanOrEqual(done.doneAt - 50);
    expect(ack.at - slowStarted).toBeGreaterThanOrEqual(1400);
  });

  it('a client that hangs up does not hold up the drain', async () => {
    await publish([{ app: 'gone', hosts: ['gone.dream'], endpoints: [a.endpoint] }]);
    const req = http.get({ host: '127.0.0.1', port: proxy.port, path: '/slow?ms=8000', headers: { host: 'gone.dream' } });
    req.on('error', () => {});
    const before = a.received.length;
    while (a.received.length === before) await new Promise((r) => setTimeout(r, 10));
    req.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const v = await publish([{ app: 'gone', hosts: ['gone.dream'], endpoints: [b.endpoint] }]);
    await api.waitForAck(v);
    // Far below the 10 s drain timeout and the 8 s the abandoned request would have taken.
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('an open WebSocket to a removed endpoint holds the ack until it closes', async () => {
    await publish([{ app: 'wsd', hosts: ['wsd.dream'], endpoints: [a.endpoint] }]);
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`, { headers: { host: 'wsd.dream' } });
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    const v = await publish([{ app: 'wsd', hosts: ['wsd.dream'], endpoints: [b.endpoint] }]);
    await new Promise((r) => setTimeout(r, 400));
    expect(api.acks.find((x) => x.version === v)).toBeUndefined();
    // Still connected to A meanwhile.
    const echo = new Promise<string>((resolve) => ws.once('message', (m) => resolve(String(m))));
    ws.send('still');
    expect(await echo).toBe('A:still:127.0.0.1');
    ws.close();
    await api.waitForAck(v, 3000);
  });

  it('switches A → B under load with zero failed requests', async () => {
    const a2 = await startUpstream('A2');
    const b2 = await startUpstream('B2');
    try {
      await publish([{ app: 'live', hosts: ['live.dream'], endpoints: [a2.endpoint] }]);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
      const total = 2000;
      let next = 0;
      const statuses = new Map<number, number>();
      const errors: string[] = [];
      const names = new Set<string>();
      let switched: Promise<void> | null = null;
      const worker = async () => {
        while (next < total) {
          const i = next++;
          if (i === 500) {
            // What the api does on deploy: publish new endpoints, wait for the ack, stop the old replica.
            switched = (async () => {
              const v = api.setRoutes([{ app: 'live', hosts: ['live.dream'], endpoints: [b2.endpoint] }]);
              await api.waitForAck(v);
              await a2.close();
            })();
          }
          try {
            // Every other request is a POST with a body: those are never retried, so a replica
            // stopped before its requests drained shows up as a failure here.
            const r = i % 2
              ? await request(proxy.port, 'live.dream', '/slow?ms=10', { agent, method: 'POST', body: `n=${i}` })
              : await request(proxy.port, 'live.dream', '/slow?ms=10', { agent });
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            if (r.status === 200) names.add(json(r.body).name);
          } catch (e) {
            errors.push((e as Error).message);
          }
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      await switched;
      agent.destroy();
      expect(errors).toEqual([]);
      expect([...statuses.keys()]).toEqual([200]);
      expect(statuses.get(200)).toBe(total);
      expect(names).toEqual(new Set(['A2', 'B2']));
      // After the switch only B2 answers.
      expect(json((await request(proxy.port, 'live.dream')).body).name).toBe('B2');
    } finally {
      await a2.close().catch(() => {});
      await b2.close();
    }
  });

  it('keeps serving from routes.json when restarted while the api is down', async () => {
    await publish([{ app: 'cached', hosts: ['cached.dream'], endpoints: [b.endpoint] }]);
    const file = path.join(dataDir, 'proxy', 'routes.json');
    // The cache write is asynchronous; wait for the version we just published to land.
    const want = api.version;
    for (let i = 0; i < 100 && JSON.parse(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '{"version":0}').version !== want; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).version).toBe(want);
    await proxy.close();
    await api.close();
    proxy = await start();
    await proxy.ready;
    const r = await request(proxy.port, 'cached.dream');
    expect(r.status).toBe(200);
    expect(json(r.body).name).toBe('B');
    expect((await request(proxy.port, 'hello.dream')).status).toBe(404);
  });
});
