// A proxy started with no cached route table (a fresh data dir) listens at once, before the api has
// answered its first poll. A request for a real app in that window waits for the first table and
// is routed (it got 404 NO_ROUTE: seen in CI, proxy-log-sink had to poll for 200), on every path:
// the fast path (plain and TLS), node:http (a chunked upload is handed to it), HTTP/2 and a
// WebSocket upgrade. An api that gives no table within the bound: 503 ROUTES_NOT_LOADED with
// Retry-After, not 404. The proxy's own answers (health, ACME HTTP-01) never wait.
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@dreamnet/core';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { NO_CERTIFICATES } from '../../apps/proxy/src/tls/types.js';
import { makeTestCerts, request, startFakeApi, startUpstream, tlsRequest, wsPing, type Reply } from './proxy-helpers.js';
import { closeServer, listen } from './proxy-helpers/servers.js';

const TOKEN = 'int_first_table_test';
const HOST = 'web.dream';
let dir: string;
let app: Awaited<ReturnType<typeof startUpstream>>;
let ca: Buffer;
let certs: typeof NO_CERTIFICATES;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-first-table-'));
  app = await startUpstream('A');
  const m = await makeTestCerts(dir, [HOST]);
  ca = m.ca;
  const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
  certs = { ...NO_CERTIFICATES, secureContext: (n: string) => (n === HOST ? sc : undefined), hasCertificate: () => false, ensure: () => {}, httpChallenge: (t: string) => (t === 'tok' ? 'tok.key' : undefined) };
});
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });
afterAll(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A proxy on a fresh data dir (no cached table) with plain and HTTPS listeners, polling `apiUrl`. */
async function freshProxy(apiUrl: string, opts: { firstTableWaitMs?: number } = {}): Promise<ProxyHandle> {
  const config = loadConfig({ DREAM_DATA_DIR: fs.mkdtempSync(path.join(dir, 'data-')), DREAM_API_URL: apiUrl, DREAM_LOG_LEVEL: 'silent' });
  const proxy = await startProxy({ config, token: TOKEN, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, pollWaitSeconds: 1, ...opts });
  cleanups.push(() => proxy.close());
  return proxy;
}

function h2Get(port: number, p: string): Promise<Reply> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: HOST });
  return new Promise<Reply>((resolve, reject) => {
    session.on('error', reject);
    const s = session.request({ ':path': p, ':authority': HOST });
    let body = '';
    let headers: http2.IncomingHttpHeaders = {};
    s.setEncoding('utf8');
    s.on('response', (h) => (headers = h));
    s.on('data', (c) => (body += c));
    s.on('end', () => resolve({ status: Number(headers[':status']), headers: headers as http.IncomingHttpHeaders, body }));
    s.on('error', reject);
  }).finally(() => session.close());
}

/** The upgrade's answer when it is not a 101: status and the proxy's error code. */
function wsRefused(port: number): Promise<{ status: number; code: string | undefined; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/ws', headers: { host: HOST, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.on('response', (res) => { res.resume(); resolve({ status: res.statusCode ?? 0, code: res.headers['x-dream-error'] as string | undefined, retryAfter: res.headers['retry-after'] as string | undefined }); });
    req.on('upgrade', (_res, socket) => { socket.destroy(); reject(new Error('upgraded')); });
    req.on('error', reject);
    req.end();
  });
}

describe('a proxy started with no cached route table', () => {
  it('holds requests sent before the api\'s first table (1.5 s late) and routes them: fast path, node:http, TLS, HTTP/2, WebSocket', async () => {
    const api = await startFakeApi(TOKEN, [{ app: 'web', hosts: [HOST], endpoints: [app.endpoint] }], { answerAfterMs: 1500 });
    cleanups.push(() => api.close());
    const proxy = await freshProxy(api.url);
    const t0 = Date.now();
    // All sent at once, while there is no table.
    expect(proxy.table.version).toBe(0);
    const [fast, chunked, overTls, overH2, ws, health] = await Promise.all([
      request(proxy.port, HOST, '/a').then((r) => ({ ...r, ms: Date.now() - t0 })),
      request(proxy.port, HOST, '/upload', { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'x'.repeat(100) }),
      tlsRequest(proxy.httpsPort!, HOST, '/b', { ca, agent: false }),
      h2Get(proxy.httpsPort!, '/c'),
      wsPing(`ws://127.0.0.1:${proxy.port}/ws`, { headers: { host: HOST } }),
      request(proxy.port, HOST, '/__dream/healthz').then((r) => ({ ...r, ms: Date.now() - t0 })),
    ]);
    // It waited for the table (the api answered after ~1.5 s).
    expect(fast.ms).toBeGreaterThanOrEqual(1000);
    expect([fast.status, fast.body]).toEqual([200, expect.stringContaining('"url":"/a"')]);
    expect([chunked.status, JSON.parse(chunked.body).bytes]).toEqual([200, 100]);
    expect([overTls.status, overTls.body]).toEqual([200, expect.stringContaining('"url":"/b"')]);
    expect([overH2.status, overH2.body]).toEqual([200, expect.stringContaining('"url":"/c"')]);
    expect(ws).toBe('A:ping:127.0.0.1');
    // The proxy's own answer did not wait for the table (it says there is none yet: version 0).
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).routesVersion).toBe(0);
    expect(health.ms).toBeLessThan(1000);
    // Once there is a table, a host it lacks is a plain 404 at once.
    const t1 = Date.now();
    expect((await request(proxy.port, 'nope.dream')).headers['x-dream-error']).toBe('NO_ROUTE');
    expect(Date.now() - t1).toBeLessThan(500);
  }, 30_000);

  it('answers 503 ROUTES_NOT_LOADED with Retry-After when no table comes within the bound; health and ACME answers at once', async () => {
    // An api that takes every poll and never answers.
    const held: http.ServerResponse[] = [];
    const silent = http.createServer((_req, res) => { held.push(res); });
    const apiPort = await listen(silent);
    cleanups.push(() => closeServer(silent));
    const proxy = await freshProxy(`http://127.0.0.1:${apiPort}`, { firstTableWaitMs: 1000 });
    const t0 = Date.now();
    const timed = <T>(p: Promise<T>) => p.then((r) => ({ r, ms: Date.now() - t0 }));
    const [fast, json, overH2, ws, health, acme] = await Promise.all([
      timed(request(proxy.port, HOST, '/a')),
      timed(request(proxy.port, HOST, '/a', { headers: { accept: 'application/json' } })),
      timed(h2Get(proxy.httpsPort!, '/c')),
      timed(wsRefused(proxy.port)),
      timed(request(proxy.port, HOST, '/__dream/healthz')),
      timed(request(proxy.port, HOST, '/.well-known/acme-challenge/tok')),
    ]);
    expect(held.length).toBeGreaterThan(0);
    for (const x of [fast, json, overH2]) {
      expect([x.r.status, x.r.headers['x-dream-error'], x.r.headers['retry-after']]).toEqual([503, 'ROUTES_NOT_LOADED', '5']);
      // The bound counts from the proxy's start, a little before t0.
      expect(x.ms).toBeGreaterThanOrEqual(500);
    }
    expect(fast.r.body).toContain('has no route table yet');
    expect(JSON.parse(json.r.body)).toMatchObject({ statusCode: 503, code: 'ROUTES_NOT_LOADED' });
    expect(ws.r).toEqual({ status: 503, code: 'ROUTES_NOT_LOADED', retryAfter: '5' });
    expect([health.r.status, acme.r.status, acme.r.body]).toEqual([200, 200, 'tok.key']);
    expect(Math.max(health.ms, acme.ms)).toBeLessThan(500);
    // Past the bound, a request gets its 503 at once (it waited the whole bound again before).
    const t1 = Date.now();
    const later = await request(proxy.port, HOST, '/a');
    expect([later.status, later.headers['x-dream-error'], Date.now() - t1 < 300]).toEqual([503, 'ROUTES_NOT_LOADED', true]);
  }, 30_000);
});
