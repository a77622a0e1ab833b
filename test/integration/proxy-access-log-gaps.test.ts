// Requests that end neither with a whole answer nor with the client leaving still get their one
// access-log line, the same on the fast path, node:http (HTTP/1.0 goes there) and over HTTPS:
// - the app breaks off its answer (head sent, then its connection closes or resets before the body
//   is complete): the app's status and the bytes the client got, as nginx 1.22.1 logs it (measured:
//   200 with the body bytes sent, and an error line "upstream prematurely closed connection");
//   before, the fast path wrote no line at all, and neither path a warn line;
// - the proxy stops and cuts, at the drain timeout, a request still in flight: 504 when the app had
//   not answered yet (the proxy gave up waiting for it, see fast/connection.ts cut()), else the app's
//   status with the bytes sent; before, the plain fast path wrote no line and the other paths 499.
//   A client that leaves on its own while the proxy drains stays 499, also after the HTTPS
//   listener's cut; before, once one listener had cut, every request torn down was 504.
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@dreamnet/core';
import type { AccessEntry } from '../../apps/proxy/src/access-log.js';
import { startProxy } from '../../apps/proxy/src/index.js';
import { NO_CERTIFICATES } from '../../apps/proxy/src/tls/types.js';
import { makeTestCerts, startFakeApi } from './proxy-helpers.js';

const TOKEN = 'int_access-log-gaps';
const DRAIN_MS = 1500;
const PART = '0123456789';

// A raw app: /break/… sends a head announcing 100 bytes and 10 of them, then closes its connection
// (/reset/…: resets it); /chunked/…: the same with one chunk; /slow/… never answers; /partial/…
// sends the head and 10 bytes, then nothing.
const app = net.createServer((s) => {
  s.on('error', () => {});
  let head = '';
  s.on('data', (d) => {
    head += d.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    const p = head.split(' ')[1] ?? '';
    if (p.startsWith('/break/') || p.startsWith('/reset/')) {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${PART}`);
      setTimeout(() => (p.startsWith('/reset/') ? s.resetAndDestroy() : s.destroy()), 50);
    } else if (p.startsWith('/chunked/')) {
      s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n${PART}\r\n`);
      setTimeout(() => s.destroy(), 50);
    } else if (p.startsWith('/early/') || p.startsWith('/early-reset/')) {
      // Only a 1xx, then the connection closes (or resets): no final response ever comes.
      s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
      setTimeout(() => (p.startsWith('/early-reset/') ? s.resetAndDestroy() : s.destroy()), 50);
    } else if (p.startsWith('/partial/')) {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${PART}`);
    }
  });
});

let dataDir = '';
let api: Awaited<ReturnType<typeof startFakeApi>>;
let ca: Buffer;
const access: AccessEntry[] = [];
/** The proxy's warn lines (its log, as JSON). */
const warns: Array<{ msg: string; requestId?: string; endpoint?: string }> = [];

type Proxy = Awaited<ReturnType<typeof startProxy>>;

async function proxyWithTls(): Promise<Proxy> {
  const m = await makeTestCerts(dataDir, ['up.dream']);
  ca = m.ca;
  const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
  const certs = { ...NO_CERTIFICATES, secureContext: (name: string) => (name === 'up.dream' ? sc : undefined), hasCertificate: () => false, ensure: () => {} };
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dataDir, `data-${Math.random()}`), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', DREAM_DRAIN_TIMEOUT_MS: String(DRAIN_MS) });
  const proxy = await startProxy({ config, token: TOKEN, log: pino({ level: 'warn' }, { write: (line: string) => { warns.push(JSON.parse(line)); } }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, pollWaitSeconds: 1, accessLog: (e) => access.push(e) });
  await proxy.routes.synced;
  return proxy;
}

let edge: Proxy;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-log-gaps-'));
  const port = await new Promise<number>((r) => app.listen(0, '127.0.0.1', () => r((app.address() as net.AddressInfo).port)));
  api = await startFakeApi(TOKEN, [{ app: 'up', hosts: ['up.dream'], endpoints: [{ host: '127.0.0.1', port }] }]);
  edge = await proxyWithTls();
});

afterAll(async () => {
  await edge?.close();
  await api?.close();
  await new Promise<void>((r) => app.close(() => r()));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

type Transport = 'plain' | 'tls';

function connect(p: Proxy, t: Transport): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s: net.Socket = t === 'plain'
      ? net.connect(p.port, '127.0.0.1', () => resolve(s))
      : tls.connect({ port: p.httpsPort!, host: '127.0.0.1', servername: 'up.dream', ca, ALPNProtocols: ['http/1.1'] }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the proxy sends until it closes (or `ms` pass). */
function readAll(s: net.Socket, ms: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => { clearTimeout(t); resolve({ text, closed: true }); };
    const t = setTimeout(() => { s.off('close', done); resolve({ text, closed: false }); }, ms);
    s.setEncoding('latin1');
    s.on('data', (c: string) => { text += c; });
    s.on('error', () => {});
    s.once('close', done);
  });
}

async function entriesFor(p: string, ms = 2000): Promise<AccessEntry[]> {
  const until = performance.now() + ms;
  while (performance.now() < until && !access.some((a) => a.path === p)) await new Promise((r) => setTimeout(r, 10));
  // A second line would come right after the first.
  await new Promise((r) => setTimeout(r, 100));
  return access.filter((a) => a.path === p);
}

const paths: Array<[string, Transport, string]> = [
  ['the fast path', 'plain', 'HTTP/1.1'],
  ['node:http (HTTP/1.0)', 'plain', 'HTTP/1.0'],
  ['HTTPS, HTTP/1.1', 'tls', 'HTTP/1.1'],
  ['HTTPS, node:http (HTTP/1.0)', 'tls', 'HTTP/1.0'],
];
const breaks = ['break', 'reset', 'chunked'];

describe('an app that breaks off its answer after the head', () => {
  it.each(paths.flatMap(([name, t, v]) => breaks.map((b) => [name, t, v, b] as const)))('on %s (%s %s, /%s/): the client\'s answer is cut, one line with the app\'s status and the bytes it got', async (_name, t, version, kind) => {
    const p = `/${kind}/${t}-${version}`;
    const s = await connect(edge, t);
    const answer = readAll(s, 3000);
    s.write(`GET ${p} ${version}\r\nHost: up.dream\r\n\r\n`);
    const r = await answer;
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.text).toContain(PART);
    // Before: no line on the fast path (plain and TLS).
    const lines = await entriesFor(p);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 200, upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    // What the client got (the head and the part of the body), as node:http counts it too.
    expect(lines[0]!.bytes).toBe(Buffer.byteLength(r.text, 'latin1'));
    // And one warn line says why (nginx: "upstream prematurely closed connection"; before: none on
    // either path).
    expect(warns.filter((w) => w.requestId === lines[0]!.requestId).map((w) => w.msg)).toEqual(['upstream broke off its response']);
    s.destroy();
  });
});

// The final response has not started after a 1xx: the proxy can still answer, and does as for an app
// that dropped the connection before any byte (retry.ts: another replica for a replayable request,
// else 502 UPSTREAM_UNAVAILABLE). Before, the fast path passed the 103 on and then closed the
// connection (curl: "Empty reply from server"), logging a 502 the client never got; node:http, which
// passes no 1xx on, answered 502. nginx 1.22.1 has no 1xx support: it takes the 103 for the final
// response, logs 103, and keeps the connection open, so curl waits for a response that never comes.
describe('an app that sends only a 1xx and breaks off', () => {
  it.each(paths.flatMap(([name, t, v]) => ['early', 'early-reset'].map((b) => [name, t, v, b] as const)))('on %s (%s %s, /%s/): the client gets a 502, logged as it got it', async (_name, t, version, kind) => {
    const p = `/${kind}/${t}-${version}`;
    const s = await connect(edge, t);
    const answer = readAll(s, 3000);
    s.write(`GET ${p} ${version}\r\nHost: up.dream\r\nConnection: close\r\n\r\n`);
    const r = await answer;
    expect(r.closed).toBe(true);
    // The 103 reaches HTTP/1.1 clients of the fast path before the 502; node:http passes no 1xx on.
    expect(r.text).toMatch(/^(HTTP\/1\.1 103 Early Hints\r\n[^]*?\r\n\r\n)?HTTP\/1\.1 502 Bad Gateway\r\n[^]*x-dream-error: UPSTREAM_UNAVAILABLE\r\n/);
    const lines = await entriesFor(p);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 502, bytes: Buffer.byteLength(r.text, 'latin1') });
    expect(warns.filter((w) => w.requestId === lines[0]!.requestId).map((w) => w.msg)).toEqual(['upstream request failed']);
    s.destroy();
  });
});

/** One HTTP/2 request to `p` on `edge`'s HTTPS port: the status it got, or 0, and how the stream ended. */
async function h2Get(p: string, leave?: 'closes' | 'resets'): Promise<{ status: number; rstCode: number | undefined }> {
  const c = http2.connect(`https://127.0.0.1:${edge.httpsPort}`, { ca, servername: 'up.dream' });
  c.on('error', () => {});
  const req = c.request({ ':path': p, ':authority': 'up.dream' });
  req.on('error', () => {});
  let status = 0;
  req.on('response', (h) => { status = Number(h[':status']); });
  if (leave) req.once('data', () => (leave === 'closes' ? c.destroy() : req.close(http2.constants.NGHTTP2_INTERNAL_ERROR)));
  else req.resume();
  await new Promise<void>((r) => req.once('close', () => r()));
  const rstCode = req.rstCode;
  c.destroy();
  return { status, rstCode };
}

// Node's HTTP/2 response has no `errored`: forward.ts, which saw the app's failure on HTTP/1.1 there,
// wrote no warn line for HTTP/2 (measured: the access line, no warn).
describe('an app that breaks off its answer to an HTTP/2 request', () => {
  it.each(breaks)('/%s/: the stream is reset, one access line with the app\'s status, one warn line', async (kind) => {
    const p = `/${kind}/h2`;
    const r = await h2Get(p);
    expect(r.status).toBe(200);
    expect(r.rstCode).not.toBe(0);
    const lines = await entriesFor(p);
    expect(lines).toMatchObject([{ status: 200, proto: '2.0', upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(warns.filter((w) => w.requestId === lines[0]!.requestId)).toMatchObject([{ msg: 'upstream broke off its response', endpoint: lines[0]!.upstream }]);
  });

  it.each(['closes', 'resets'] as const)('a client that leaves during the answer (%s) gets no warn line', async (leave) => {
    const p = `/partial/leaves-h2-${leave}`;
    expect((await h2Get(p, leave)).status).toBe(200);
    const lines = await entriesFor(p);
    expect(lines).toMatchObject([{ status: 200 }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(warns.filter((w) => w.requestId === lines[0]!.requestId)).toEqual([]);
  });
});

describe('a client that leaves during an answer', () => {
  it.each(paths)('on %s: logged with the app\'s status, and no warn line (the app did nothing wrong)', async (_name, t, version) => {
    const p = `/partial/leaves-${t}-${version}`;
    const s = await connect(edge, t);
    s.on('error', () => {});
    s.write(`GET ${p} ${version}\r\nHost: up.dream\r\n\r\n`);
    await new Promise<void>((r) => s.once('data', () => r()));
    s.destroy();
    const lines = await entriesFor(p);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 200 });
    expect(warns.filter((w) => w.requestId === lines[0]!.requestId)).toEqual([]);
  });
});

describe('a proxy that stops cuts what is still in flight at the drain timeout', () => {
  it('logs each cut request once: 504 when the app had not answered, else the app\'s status and the bytes sent', async () => {
    const closing = await proxyWithTls();
    const sockets: Array<{ p: string; answer: Promise<{ text: string; closed: boolean }> }> = [];
    for (const [, t, version] of paths) {
      for (const kind of ['slow', 'partial']) {
        const p = `/${kind}/drain-${t}-${version}`;
        const s = await connect(closing, t);
        sockets.push({ p, answer: readAll(s, DRAIN_MS + 5000) });
        s.write(`GET ${p} ${version}\r\nHost: up.dream\r\n\r\n`);
      }
    }
    // HTTP/2 (node:http's handler, the HTTPS listener's session cut): the same.
    const h2 = http2.connect(`https://127.0.0.1:${closing.httpsPort}`, { ca, servername: 'up.dream' });
    h2.on('error', () => {});
    const h2Path = '/slow/drain-h2';
    const h2Req = h2.request({ ':path': h2Path, ':authority': 'up.dream' });
    h2Req.on('error', () => {});
    const h2Done = new Promise<void>((r) => h2Req.once('close', () => r()));
    // Every request reached the app (the partial ones' heads reached the clients).
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await closing.close();
    // Cut at the drain timeout (after the 1 s keep-alive grace at most), not before.
    expect(performance.now() - t0).toBeGreaterThan(DRAIN_MS - 100);
    await h2Done;
    h2.destroy();
    expect(await entriesFor(h2Path, 500)).toMatchObject([{ status: 504, upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }]);
    for (const { p, answer } of sockets) {
      const r = await answer;
      expect(r.closed, p).toBe(true);
      const lines = await entriesFor(p, 500);
      // Before: no line for the plain fast path's requests, 499 for the others (the client never left).
      expect(lines, p).toHaveLength(1);
      if (p.startsWith('/slow/')) {
        expect(r.text, p).toBe('');
        expect(lines[0], p).toMatchObject({ status: 504, bytes: 0, upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
      } else {
        expect(r.text, p).toMatch(/^HTTP\/1\.1 200 [^]*0123456789$/);
        expect(lines[0], p).toMatchObject({ status: 200, bytes: Buffer.byteLength(r.text, 'latin1') });
      }
    }
  });

  it('logs a request whose client left on its own while the proxy drained 499, also after the HTTPS listener\'s cut', async () => {
    const closing = await proxyWithTls();
    const leaving: Array<{ p: string; s: net.Socket }> = [];
    // The plain fast path, node:http (HTTP/1.0) and the TLS fast path (the plain listener cuts those).
    for (const [t, version] of [['plain', 'HTTP/1.1'], ['plain', 'HTTP/1.0'], ['tls', 'HTTP/1.1']] as const) {
      const p = `/slow/leaves-while-draining-${t}-${version}`;
      const s = await connect(closing, t);
      s.on('error', () => {});
      s.write(`GET ${p} ${version}\r\nHost: up.dream\r\n\r\n`);
      leaving.push({ p, s });
    }
    await new Promise((r) => setTimeout(r, 300));
    const closed = closing.close();
    // The HTTPS listener cuts what node serves on it at the drain timeout (here nothing); the plain
    // listener cuts its own and the fast path's connections 1 s later (after the keep-alive grace).
    // The clients leave in between.
    await new Promise((r) => setTimeout(r, DRAIN_MS + 400));
    for (const { s } of leaving) s.destroy();
    await closed;
    for (const { p } of leaving) {
      // Before: 504 each, as if the proxy had cut them (the HTTPS listener's cut set a process-wide flag).
      expect(await entriesFor(p, 500), p).toMatchObject([{ status: 499, bytes: 0 }]);
    }
  });
});
