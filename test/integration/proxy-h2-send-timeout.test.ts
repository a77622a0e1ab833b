// HTTP/2 clients slow to take their answers. A client that never opened its flow-control window (or
// stopped reading one stream) while answering PINGs held that stream, and the app's request behind
// it, for good: no timeout of node's or ours counted it (the connection is live, the stream open).
// nginx's send_timeout and Go's WriteTimeout reset such a stream; so does the proxy now, after the
// same send timeout as HTTP/1.1 (60 s; 2 s here). And the access line of an HTTP/2 answer said its
// Content-Length, not what the client got: 0 for a streamed answer, the whole length for one cut.
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import type { AccessEntry } from '../../apps/proxy/src/access-log.js';
import { NO_CERTIFICATES, type CertificateSource } from '../../apps/proxy/src/tls/types.js';
import { makeTestCerts, startFakeApi } from './proxy-helpers.js';
import { closeServer, listen } from './proxy-helpers/servers.js';

const TOKEN = 'int_h2-send-timeout';
const MB = 1024 * 1024;
const SEND_TIMEOUT_MS = 2000;

/** /big?mb=N: N MiB chunked in 64 KiB writes; /hello: 5 bytes chunked; /empty: 204; /break: 10 of 100 bytes, then a reset. */
const cutShort: string[] = [];
const app = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/hello') return void res.end('hello');
  if (url.pathname === '/empty') return void res.writeHead(204).end();
  if (url.pathname === '/break') {
    res.writeHead(200, { 'content-length': '100' });
    res.write('0123456789', () => setTimeout(() => res.socket?.resetAndDestroy(), 50));
    return;
  }
  const mb = Number(url.searchParams.get('mb') ?? '1');
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  let i = 0;
  const more = () => { while (i < mb * 16) { if (!res.write(Buffer.alloc(65536, i++ % 256))) return void res.once('drain', more); } res.end(); };
  res.on('close', () => { if (!res.writableFinished) cutShort.push(req.url ?? ''); });
  more();
});
let dir: string;
let ca: Buffer;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let proxy: ProxyHandle;
const access: AccessEntry[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-h2-send-'));
  const m = await makeTestCerts(dir, ['big.dream']);
  ca = m.ca;
  const ctx = tls.createSecureContext({ key: m.key, cert: m.cert });
  const certs: CertificateSource = { ...NO_CERTIFICATES, secureContext: (n) => (n === 'big.dream' ? ctx : undefined), hasCertificate: (h) => h === 'big.dream' };
  const port = await listen(app);
  api = await startFakeApi(TOKEN, [{ app: 'big', hosts: ['big.dream'], endpoints: [{ host: '127.0.0.1', port }] }]);
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent' });
  proxy = await startProxy({ config, token: TOKEN, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, sendTimeoutMs: SEND_TIMEOUT_MS, accessLog: (e) => access.push(e) });
  await proxy.routes.synced;
});

afterAll(async () => {
  await proxy?.close();
  await api?.close();
  await closeServer(app);
  fs.rmSync(dir, { recursive: true, force: true });
});

function connect(settings: http2.Settings = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca, servername: 'big.dream', settings });
    s.once('error', reject);
    // A connection window as large as any answer here: only the stream's own window can hold one up.
    s.once('connect', () => { s.setLocalWindowSize(256 * MB); resolve(s); });
  });
}

interface Got { status: number; body: number; rstCode: number; closedAt: number }
/** GET `p` on `s`; `reader` decides how the body is read. */
function get(s: http2.ClientHttp2Session, p: string, reader: (r: http2.ClientHttp2Stream, got: { body: number }) => void = (r) => r.resume()): Promise<Got> {
  return new Promise((resolve) => {
    const r = s.request({ ':path': p, ':authority': 'big.dream' });
    const got = { status: 0, body: 0 };
    r.on('response', (h) => { got.status = Number(h[':status']); });
    r.on('data', (d: Buffer) => { got.body += d.length; });
    r.on('error', () => {});
    r.on('close', () => resolve({ ...got, rstCode: r.rstCode ?? -1, closedAt: Date.now() }));
    reader(r, got);
  });
}

async function entryFor(p: string, seen: number): Promise<AccessEntry> {
  await expect.poll(() => access.slice(seen).find((e) => e.path === p), { timeout: 3000 }).toBeDefined();
  return access.slice(seen).find((e) => e.path === p)!;
}

describe('an HTTP/2 client slow to take its answer', () => {
  it('that never opens its window: the stream is reset after the send timeout, the app\'s request with it; the connection goes on', async () => {
    const s = await connect({ initialWindowSize: 0 });
    const before = cutShort.length;
    const seen = access.length;
    const t0 = Date.now();
    const got = await get(s, '/big?mb=64');
    expect(got.status).toBe(200);
    expect(got.body).toBe(0);
    expect(got.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    // Swept every second: cut 2 to 3 s after the last byte it took (before: never).
    expect(got.closedAt - t0).toBeGreaterThanOrEqual(SEND_TIMEOUT_MS);
    expect(got.closedAt - t0).toBeLessThan(SEND_TIMEOUT_MS + 3000);
    await expect.poll(() => cutShort.length - before, { timeout: 3000 }).toBe(1);
    expect(await entryFor('/big?mb=64', seen)).toMatchObject({ status: 200, bytes: 0, proto: '2.0' });
    // One stream, not the connection: an answer with no body still comes on it.
    expect((await get(s, '/empty')).status).toBe(204);
    s.close();
  }, 15_000);

  it('that stops reading one stream: that one is reset, another on the connection is not held up', async () => {
    const s = await connect();
    const seen = access.length;
    const stalled = get(s, '/big?mb=64', (r) => r.once('data', () => r.pause()));
    const other = await get(s, '/big?mb=4');
    expect(other).toMatchObject({ status: 200, body: 4 * MB });
    const got = await stalled;
    expect(got.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    const entry = await entryFor('/big?mb=64', seen);
    expect(entry.status).toBe(200);
    // What nghttp2 framed, a whole write at a time: some, and no more than the stream's window
    // (65 535, node's default) let out; the client's stack holds it unread (its 'data' is paused).
    expect(got.body).toBeGreaterThan(0);
    expect(entry.bytes).toBeGreaterThan(0);
    expect(entry.bytes).toBeLessThanOrEqual(65_535);
    expect((await entryFor('/big?mb=4', seen)).bytes).toBe(4 * MB);
    s.close();
  }, 15_000);

  it('is never cut while it keeps taking bytes, however slowly', async () => {
    const s = await connect();
    const seen = access.length;
    // One DATA event every 40 ms: 2 MiB take ~11 s here, 5 times the timeout.
    const got = await get(s, '/big?mb=2', (r) => r.on('data', () => { r.pause(); setTimeout(() => r.resume(), 40); }));
    expect(got).toMatchObject({ status: 200, body: 2 * MB, rstCode: http2.constants.NGHTTP2_NO_ERROR });
    expect((await entryFor('/big?mb=2', seen)).bytes).toBe(2 * MB);
    s.close();
  }, 30_000);
});

describe('the access line of an HTTP/2 answer', () => {
  it('counts the body bytes the client got: a streamed answer, none for HEAD or 204, part of one the app broke off', async () => {
    const s = await connect();
    const seen = access.length;
    expect(await get(s, '/hello')).toMatchObject({ status: 200, body: 5 });
    // Before: 0 (no Content-Length).
    expect((await entryFor('/hello', seen)).bytes).toBe(5);
    expect((await get(s, '/empty')).status).toBe(204);
    expect((await entryFor('/empty', seen)).bytes).toBe(0);
    const broke = await get(s, '/break');
    expect(broke).toMatchObject({ status: 200, body: 10 });
    expect(broke.rstCode).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
    // Before: 100, the Content-Length.
    expect(await entryFor('/break', seen)).toMatchObject({ status: 200, bytes: 10 });
    s.close();
  }, 15_000);
});
