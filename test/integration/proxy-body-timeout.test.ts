// A client that stops sending a request body it announced (slow POST), with request buffering off
// (DREAM_PROXY_REQUEST_BUFFERING=off; buffered, the app never sees such a request:
// proxy-request-buffering.test.ts). The body streams to the app as it comes, so such a client held
// its connection and the app's request for good on the fast path and over HTTP/2 (a chunked
// upload, on node:http's path, for node's 300 s requestTimeout): a handful of them tie up every
// worker of a pre-forking app (gunicorn's 4 sync workers: 4 connections). nginx's
// client_body_timeout (60 s) is the rule: no byte of the body for that long → 408
// REQUEST_TIMEOUT, the connection (HTTP/2: the stream) closed, the app's request cut. A client
// that keeps sending, however slowly, or one the proxy itself holds back (the app reads slowly),
// is never cut.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import fs from 'node:fs';
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

const TOKEN = 'int_body-timeout';
const BODY_TIMEOUT_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads the whole body and answers its length; /lazy?ms=N waits N ms before it reads. Counts requests whose client was cut. */
const cut: string[] = [];
const app = http.createServer((req, res) => {
  const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? '0');
  let n = 0;
  req.pause();
  setTimeout(() => { req.on('data', (d: Buffer) => { n += d.length; }); req.resume(); }, ms);
  req.on('end', () => res.end(`got ${n}`));
  req.on('close', () => { if (!req.complete) cut.push(req.url ?? ''); });
});
let api: Awaited<ReturnType<typeof startFakeApi>>;
let proxy: ProxyHandle;
let dir: string;
let ca: Buffer;
const access: AccessEntry[] = [];

beforeAll(async () => {
  const port = await listen(app);
  api = await startFakeApi(TOKEN, [{ app: 'up', hosts: ['up.dream'], endpoints: [{ host: '127.0.0.1', port }] }]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-body-'));
  const m = await makeTestCerts(dir, ['up.dream']);
  ca = m.ca;
  const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
  const certs: CertificateSource = { ...NO_CERTIFICATES, secureContext: (n) => (n === 'up.dream' ? sc : undefined), hasCertificate: () => false };
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', DREAM_PROXY_REQUEST_BUFFERING: 'off' });
  proxy = await startProxy({ config, token: TOKEN, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, pollWaitSeconds: 1, accessLog: (e) => access.push(e), bodyTimeoutMs: BODY_TIMEOUT_MS });
  await proxy.routes.synced;
});
afterAll(async () => {
  await proxy?.close();
  await api?.close();
  await closeServer(app);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** POSTs `p` announcing `length` bytes (-1: chunked); `send` writes the body. Resolves with what came back and when the connection closed. */
function upload(p: string, length: number, send: (s: net.Socket) => void): Promise<{ text: string; closedAt: number }> {
  return new Promise((resolve) => {
    const s = net.connect(proxy.port, '127.0.0.1');
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { text += d; if (/\r\n\r\ngot \d+$/.test(text)) s.end(); });
    s.on('error', () => {});
    s.on('close', () => resolve({ text, closedAt: Date.now() }));
    s.write(`POST ${p} HTTP/1.1\r\nHost: up.dream\r\n${length < 0 ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`}\r\n\r\n`);
    send(s);
  });
}

const PAGE = 'The request body stopped arriving: none of it came for 1 s. Send it again.\n';

describe('a client that stops sending its request body', () => {
  // The fast path (Content-Length) checks on the connection's 5 s timer; node:http's path (chunked)
  // and HTTP/2 on a timer of the body's own: cut 1 to 6 s after the last byte.
  for (const [name, length, part] of [['fast path', 1000, 'x'.repeat(500)], ['node:http path, chunked', -1, '5\r\nhello\r\n']] as const) {
    it(`is answered 408 once it sent nothing for the body timeout, then closed; the app's request is cut (${name})`, async () => {
      const p = `/stall-${length}`;
      const before = cut.length;
      const t0 = Date.now();
      // Part of the body, then nothing (before: open until the test gave up).
      const r = await upload(p, length, (s) => s.write(part));
      expect(r.text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(r.text).toMatch(/\r\nconnection: close\r\n/i);
      expect(r.text).toMatch(/\r\nx-dream-error: REQUEST_TIMEOUT\r\n/i);
      expect(r.text.endsWith(`\r\n\r\n${PAGE}`)).toBe(true);
      expect(r.closedAt - t0).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS);
      expect(r.closedAt - t0).toBeLessThan(BODY_TIMEOUT_MS + 6000);
      await expect.poll(() => cut.length - before, { timeout: 2000 }).toBe(1);
      await expect.poll(() => access.find((e) => e.path === p), { timeout: 2000 }).toMatchObject({ method: 'POST', status: 408, bytes: Buffer.byteLength(r.text, 'latin1'), upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    }, 15_000);
  }

  it('is answered 408 over HTTP/2 too, on that stream; the connection goes on', async () => {
    const before = cut.length;
    const s = http2.connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca, servername: 'up.dream' });
    s.on('error', () => {});
    const t0 = Date.now();
    const r = s.request({ ':method': 'POST', ':path': '/stall-h2', ':authority': 'up.dream' });
    const got = await new Promise<{ status: number; body: string; at: number }>((resolve) => {
      let status = 0;
      let body = '';
      r.on('response', (h) => { status = Number(h[':status']); });
      r.setEncoding('utf8');
      r.on('data', (d: string) => { body += d; });
      r.on('error', () => {});
      r.on('end', () => resolve({ status, body, at: Date.now() }));
      r.write('abc'); // and never the rest, nor END_STREAM
    });
    expect(got).toMatchObject({ status: 408, body: PAGE });
    // The stream is over on both sides: RST_STREAM NO_ERROR after the answer (RFC 9113 §8.1).
    await expect.poll(() => r.rstCode, { timeout: 2000 }).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(got.at - t0).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS);
    expect(got.at - t0).toBeLessThan(BODY_TIMEOUT_MS + 6000);
    await expect.poll(() => cut.length - before, { timeout: 2000 }).toBe(1);
    await expect.poll(() => access.find((e) => e.path === '/stall-h2'), { timeout: 2000 }).toMatchObject({ status: 408, proto: '2.0', bytes: Buffer.byteLength(PAGE) });
    // Another request on the same connection is answered.
    const next = await new Promise<number>((resolve) => {
      const r = s.request({ ':method': 'POST', ':path': '/after', ':authority': 'up.dream' });
      r.on('response', (h) => resolve(Number(h[':status'])));
      r.end('done');
    });
    expect(next).toBe(200);
    s.close();
  }, 15_000);

  it('is never cut while it keeps sending, however slowly', async () => {
    // A byte every 700 ms for ~8 s: each check sees some sent since the last.
    const r = await upload('/slow', 12, (s) => {
      let i = 0;
      const t = setInterval(() => { s.write('y'); if (++i === 12) clearInterval(t); }, 700);
    });
    expect(r.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ngot 12$/);
  }, 20_000);

  it('is never cut while the proxy holds it back for an app that reads slowly', async () => {
    // 64 MiB at once: kernel buffers fill, the proxy stops reading the client (request-writer.ts)
    // for the 12 s the app does not read (two checks of the timer), then it all goes through.
    const size = 64 * 1024 * 1024;
    const r = await upload('/lazy?ms=12000', size, (s) => s.write(Buffer.alloc(size, 'z')));
    expect(r.text).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[^]*\\r\\n\\r\\ngot ${size}$`));
  }, 30_000);
});
