// Request buffering (DREAM_PROXY_REQUEST_BUFFERING, on by default, as nginx and kamal-proxy): the
// app is asked only once the whole body is here, with its length. Streamed, a client uploading a
// byte now and then held one of the app's workers for as long as it liked. Beyond the memory size
// the body goes to a deleted temp file; beyond the disk budget the rest streams as before.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
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
import type { TestRoute } from './proxy-helpers/fake-api.js';
import { closeServer, listen } from './proxy-helpers/servers.js';
import { openFilesUnder } from '../open-files.js';

const TOKEN = 'int_request-buffering';
const BODY_TIMEOUT_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);

/** What the app saw of each request: when it was asked, its framing fields, and the body (length, hash). */
interface Seen { url: string; at: number; contentLength?: string; te?: string; length?: number; hash?: string }
const seen: Seen[] = [];
const app = http.createServer((req, res) => {
  const s: Seen = { url: req.url ?? '', at: Date.now(), contentLength: req.headers['content-length'], te: req.headers['transfer-encoding'] };
  seen.push(s);
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    const body = Buffer.concat(parts);
    s.length = body.length;
    s.hash = sha(body);
    res.end(`got ${body.length} ${s.hash}`);
  });
});
/** Answers 413 at the first bytes and reads no more of the connection. */
const early = net.createServer((c) => {
  c.on('error', () => {});
  c.once('data', () => { c.pause(); c.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large'); });
});
let api: Awaited<ReturnType<typeof startFakeApi>>;
let initialRoutes: TestRoute[];
let dir: string;
let ca: Buffer;
let certs: CertificateSource;
const access: AccessEntry[] = [];
const proxies: Record<'on' | 'off' | 'tight' | 'capped' | 'cappedOff' | 'cappedTight', ProxyHandle> = {} as never;

async function start(name: string, env: Record<string, string>): Promise<ProxyHandle> {
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dir, name), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', ...env });
  const p = await startProxy({ config, token: TOKEN, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, pollWaitSeconds: 1, accessLog: (e) => access.push(e), bodyTimeoutMs: BODY_TIMEOUT_MS });
  await p.routes.synced;
  return p;
}

beforeAll(async () => {
  const port = await listen(app);
  const earlyPort = await new Promise<number>((r) => early.listen(0, '127.0.0.1', () => r((early.address() as net.AddressInfo).port)));
  api = await startFakeApi(TOKEN, initialRoutes = [
    { app: 'up', hosts: ['up.dream'], endpoints: [{ host: '127.0.0.1', port }] },
    { app: 'early', hosts: ['early.dream'], endpoints: [{ host: '127.0.0.1', port: earlyPort }] },
    // Apps with their own settings (PATCH /v1/apps/:app), over the proxy's.
    { app: 'roomy', hosts: ['roomy.dream'], endpoints: [{ host: '127.0.0.1', port }], maxRequestBody: 50_000 },
    { app: 'unlimited', hosts: ['unlimited.dream'], endpoints: [{ host: '127.0.0.1', port }], maxRequestBody: 0 },
    { app: 'strict', hosts: ['strict.dream'], endpoints: [{ host: '127.0.0.1', port }], maxRequestBody: 100 },
    { app: 'streams', hosts: ['streams.dream'], endpoints: [{ host: '127.0.0.1', port }], requestBuffering: false },
    { app: 'buffers', hosts: ['buffers.dream'], endpoints: [{ host: '127.0.0.1', port }], requestBuffering: true },
  ]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-buffering-'));
  const m = await makeTestCerts(dir, ['up.dream']);
  ca = m.ca;
  const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
  certs = { ...NO_CERTIFICATES, secureContext: (n) => (n === 'up.dream' ? sc : undefined), hasCertificate: () => false };
  proxies.on = await start('on', {});
  proxies.off = await start('off', { DREAM_PROXY_REQUEST_BUFFERING: 'off' });
  proxies.tight = await start('tight', { DREAM_PROXY_REQUEST_BUFFER_MEMORY: '1024', DREAM_PROXY_REQUEST_BUFFER_DISK: '100000' });
  proxies.capped = await start('capped', { DREAM_PROXY_MAX_REQUEST_BODY: '10000' });
  proxies.cappedOff = await start('capped-off', { DREAM_PROXY_MAX_REQUEST_BODY: '10000', DREAM_PROXY_REQUEST_BUFFERING: 'off' });
  // 1 KiB in memory, 3 KiB on disk: the rest of a larger body streams (and is counted on).
  proxies.cappedTight = await start('capped-tight', { DREAM_PROXY_MAX_REQUEST_BODY: '10000', DREAM_PROXY_REQUEST_BUFFER_MEMORY: '1024', DREAM_PROXY_REQUEST_BUFFER_DISK: '3072' });
});
afterAll(async () => {
  for (const p of Object.values(proxies)) await p?.close();
  await api?.close();
  await closeServer(app);
  early.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A raw connection to the proxy: what came back so far, and all of it once it closed. */
function raw(port: number): { s: net.Socket; text: () => string; closed: Promise<string> } {
  const s = net.connect(port, '127.0.0.1');
  let text = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => { text += d; });
  s.on('error', () => {});
  return { s, text: () => text, closed: new Promise((r) => s.on('close', () => r(text))) };
}

/**
 * POSTs `p` over a raw connection, announcing `length` bytes (-1: chunked, `parts` framed as
 * chunks); `parts` are written with `gapMs` between them and `during` runs in the last gap.
 */
async function upload(port: number, p: string, length: number, parts: Buffer[], gapMs: number, during: () => Promise<void> | void = () => {}): Promise<string> {
  const { s, text, closed } = raw(port);
  s.write(`POST ${p} HTTP/1.1\r\nHost: up.dream\r\n${length < 0 ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`}\r\n\r\n`);
  for (const [i, part] of parts.entries()) {
    s.write(length < 0 ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
    if (i < parts.length - 1) { await sleep(gapMs); if (i === parts.length - 2) await during(); }
  }
  if (length < 0) s.write('0\r\n\r\n');
  await expect.poll(() => /\r\n\r\ngot \d+ \w+$/.test(text()), { timeout: 10_000 }).toBe(true);
  s.end();
  return closed;
}

describe('request buffering', () => {
  it('asks the app only once the whole body is here (Content-Length, the fast path hands it over)', async () => {
    const body = crypto.randomBytes(40_000);
    const t0 = Date.now();
    const text = await upload(proxies.on.port, '/slow-length', body.length, [body.subarray(0, 1000), body.subarray(1000)], 600, () => {
      expect(seen.find((s) => s.url === '/slow-length')).toBeUndefined();
    });
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[^]*\\r\\n\\r\\ngot 40000 ${sha(body)}$`));
    const s = seen.find((x) => x.url === '/slow-length')!;
    expect(s.at - t0).toBeGreaterThanOrEqual(550);
    expect(s).toMatchObject({ contentLength: '40000', te: undefined, length: 40_000 });
  });

  it('sends a chunked upload with Content-Length once it ended', async () => {
    const parts = [crypto.randomBytes(3000), crypto.randomBytes(5000), crypto.randomBytes(7)];
    const text = await upload(proxies.on.port, '/chunked', -1, parts, 300, () => {
      expect(seen.find((s) => s.url === '/chunked')).toBeUndefined();
    });
    expect(text).toMatch(new RegExp(`\\r\\n\\r\\ngot 8007 ${sha(Buffer.concat(parts))}$`));
    expect(seen.find((x) => x.url === '/chunked')).toMatchObject({ contentLength: '8007', te: undefined, length: 8007 });
  });

  it('keeps a body past the memory size in a deleted file, gone once the request is over', async () => {
    const body = crypto.randomBytes(3 * 1024 * 1024);
    const spill = path.join(dir, 'on', 'request-bodies');
    let during: string[] = [];
    const text = await upload(proxies.on.port, '/big', body.length, [body.subarray(0, 2 * 1024 * 1024), body.subarray(2 * 1024 * 1024)], 500, () => {
      during = openFilesUnder(spill);
      expect(seen.find((s) => s.url === '/big')).toBeUndefined();
    });
    expect(text).toMatch(new RegExp(`\\r\\n\\r\\ngot ${body.length} ${sha(body)}$`));
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/ \(deleted\)$/);
    expect(fs.readdirSync(spill)).toEqual([]);
    expect((fs.statSync(spill).mode & 0o777).toString(8)).toBe('700');
    await expect.poll(() => openFilesUnder(spill)).toEqual([]);
  });

  it('streams the rest of an upload past the disk budget, intact', async () => {
    const body = crypto.randomBytes(300_000);
    const text = await upload(proxies.tight.port, '/past-budget', body.length, [body.subarray(0, 200_000), body.subarray(200_000)], 500, async () => {
      // 1 KiB in memory, ~99 KB on disk, then the app is asked and gets the rest as it comes.
      // Polled: on a loaded box the proxy may take longer than the gap to ask the app.
      await expect.poll(() => seen.find((s) => s.url === '/past-budget'), { timeout: 5000 }).toBeDefined();
    });
    expect(text).toMatch(new RegExp(`\\r\\n\\r\\ngot 300000 ${sha(body)}$`));
    expect(seen.find((x) => x.url === '/past-budget')).toMatchObject({ contentLength: '300000', length: 300_000 });
    // The budget came back: the next body is buffered whole again.
    const next = crypto.randomBytes(50_000);
    await upload(proxies.tight.port, '/after-budget', next.length, [next.subarray(0, 10), next.subarray(10)], 400, () => {
      expect(seen.find((s) => s.url === '/after-budget')).toBeUndefined();
    });
  });

  it('with DREAM_PROXY_REQUEST_BUFFERING=off, streams the upload as it comes', async () => {
    const body = crypto.randomBytes(20_000);
    const text = await upload(proxies.off.port, '/streamed', body.length, [body.subarray(0, 1000), body.subarray(1000)], 500, async () => {
      // Polled: on a loaded box the proxy may take longer than the gap to ask the app.
      await expect.poll(() => seen.find((s) => s.url === '/streamed'), { timeout: 5000 }).toBeDefined();
    });
    expect(text).toMatch(new RegExp(`\\r\\n\\r\\ngot 20000 ${sha(body)}$`));
  });

  it('answers 408 to a client that stops sending, and the app never hears of it', async () => {
    const s = net.connect(proxies.on.port, '127.0.0.1');
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { text += d; });
    s.on('error', () => {});
    const t0 = Date.now();
    const closed = new Promise<number>((r) => s.on('close', () => r(Date.now())));
    s.write('POST /stalled HTTP/1.1\r\nHost: up.dream\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
    const at = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[^]*x-dream-error: REQUEST_TIMEOUT\r\n/i);
    expect(at - t0).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS);
    expect(at - t0).toBeLessThan(BODY_TIMEOUT_MS + 3000);
    expect(seen.find((x) => x.url === '/stalled')).toBeUndefined();
    await expect.poll(() => access.find((e) => e.path === '/stalled')).toMatchObject({ status: 408, upstream: '-' });
  });

  it('logs a client that leaves mid-upload 499, and the app never hears of it', async () => {
    const s = net.connect(proxies.on.port, '127.0.0.1');
    s.on('error', () => {});
    s.write('POST /left HTTP/1.1\r\nHost: up.dream\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
    await sleep(200);
    s.destroy();
    await expect.poll(() => access.find((e) => e.path === '/left')).toMatchObject({ status: 499 });
    expect(seen.find((x) => x.url === '/left')).toBeUndefined();
  });

  it('logs a client that half-closes mid-upload 499 at once, and the app never hears of it', async () => {
    const s = net.connect(proxies.on.port, '127.0.0.1');
    s.on('error', () => {});
    s.write('POST /fin HTTP/1.1\r\nHost: up.dream\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
    await sleep(200);
    const t0 = Date.now();
    s.end();
    await expect.poll(() => access.find((e) => e.path === '/fin'), { timeout: 3000 }).toMatchObject({ status: 499 });
    expect(Date.now() - t0).toBeLessThan(BODY_TIMEOUT_MS);
    expect(seen.find((x) => x.url === '/fin')).toBeUndefined();
    s.destroy();
  });

  it('sends 100 Continue to a client that expects it, then reads its body whole', async () => {
    const s = net.connect(proxies.on.port, '127.0.0.1');
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { out += d; });
    s.write('POST /continue HTTP/1.1\r\nHost: up.dream\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n');
    await expect.poll(() => out).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const body = crypto.randomBytes(5000);
    s.write(body.subarray(0, 2500));
    await sleep(300);
    expect(seen.find((x) => x.url === '/continue')).toBeUndefined();
    s.write(body.subarray(2500));
    await expect.poll(() => out).toMatch(new RegExp(`\\r\\n\\r\\ngot 5000 ${sha(body)}$`));
    expect(seen.find((x) => x.url === '/continue')).toMatchObject({ contentLength: '5000' });
    s.destroy();
  });

  it('passes on an answer the app gave without reading the body (413), and the connection goes on', async () => {
    // 8 MB: more than the socket buffers between proxy and app hold; the app reads none of it.
    const s = net.connect(proxies.on.port, '127.0.0.1');
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { out += d; });
    s.on('error', () => {});
    s.write(Buffer.concat([Buffer.from(`POST /early HTTP/1.1\r\nHost: early.dream\r\nContent-Length: ${8 << 20}\r\n\r\n`), Buffer.alloc(8 << 20, 1)]));
    await expect.poll(() => out, { timeout: 10_000 }).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n[^]*\r\n\r\ntoo large$/);
    expect(out).not.toMatch(/connection: close/i);
    s.write('GET /next HTTP/1.1\r\nHost: up.dream\r\nConnection: close\r\n\r\n');
    await new Promise((r) => s.on('close', r));
    expect(out).toMatch(/too largeHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ngot 0 \w+$/);
  });

  it('buffers an HTTP/2 upload too, and sends its length', async () => {
    const c = http2.connect(`https://127.0.0.1:${proxies.on.httpsPort}`, { ca, servername: 'up.dream' });
    c.on('error', () => {});
    const body = crypto.randomBytes(100_000);
    const r = c.request({ ':method': 'POST', ':path': '/h2-upload', ':authority': 'up.dream' });
    const answer = new Promise<{ status: number; text: string }>((resolve) => {
      let status = 0;
      let text = '';
      r.on('response', (h) => { status = Number(h[':status']); });
      r.setEncoding('utf8');
      r.on('data', (d: string) => { text += d; });
      r.on('end', () => resolve({ status, text }));
    });
    r.write(body.subarray(0, 30_000));
    await sleep(500);
    expect(seen.find((x) => x.url === '/h2-upload')).toBeUndefined();
    r.end(body.subarray(30_000));
    expect(await answer).toEqual({ status: 200, text: `got 100000 ${sha(body)}` });
    expect(seen.find((x) => x.url === '/h2-upload')).toMatchObject({ contentLength: '100000', length: 100_000 });
    c.close();
  });
});

describe('DREAM_PROXY_MAX_REQUEST_BODY', () => {
  /** Sends `head` and `body` on a raw connection; resolves with all that came back once the proxy closed. */
  function exchange(head: string, body: Buffer, port = proxies.capped.port): Promise<string> {
    const { s, closed } = raw(port);
    s.write(head);
    s.write(body);
    return closed;
  }
  const expectTooLarge = (out: string) => {
    expect(out).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(out).toMatch(/\r\nx-dream-error: REQUEST_BODY_TOO_LARGE\r\n/i);
    expect(out).toMatch(/\r\nconnection: close\r\n/i);
    expect(out).toMatch(/\r\n\r\nThe request body is larger than this app accepts \(10000 bytes\)\./);
  };

  it('refuses a Content-Length over it with 413 at once; the app never sees the request', async () => {
    const out = await exchange('POST /over-length HTTP/1.1\r\nHost: up.dream\r\nContent-Length: 20000\r\n\r\n', Buffer.alloc(100, 1));
    expectTooLarge(out);
    expect(seen.find((x) => x.url === '/over-length')).toBeUndefined();
    await expect.poll(() => access.find((e) => e.path === '/over-length')).toMatchObject({ status: 413, upstream: '-' });
  });

  it('refuses a chunked body once it passes the limit; the app never sees it', async () => {
    const chunk = (n: number) => Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), Buffer.alloc(n, 2), Buffer.from('\r\n')]);
    const out = await exchange('POST /over-chunked HTTP/1.1\r\nHost: up.dream\r\nTransfer-Encoding: chunked\r\n\r\n', Buffer.concat([chunk(6000), chunk(6000)]));
    expectTooLarge(out);
    expect(seen.find((x) => x.url === '/over-chunked')).toBeUndefined();
  });

  it('refuses a Content-Length over it without a 100 Continue first (the client need not send the body)', async () => {
    const out = await exchange('POST /over-expect HTTP/1.1\r\nHost: up.dream\r\nContent-Length: 20000\r\nExpect: 100-continue\r\n\r\n', Buffer.alloc(0));
    expectTooLarge(out);
    expect(out).not.toMatch(/100 Continue/);
    expect(seen.find((x) => x.url === '/over-expect')).toBeUndefined();
  });

  // Streamed, the app has been asked; the proxy cuts that request and answers the client itself.
  it('counts a chunked body streamed with buffering off, and one streamed past the disk budget', async () => {
    const chunk = (n: number, b: number) => Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), Buffer.alloc(n, b), Buffer.from('\r\n')]);
    const head = (p: string) => `POST ${p} HTTP/1.1\r\nHost: up.dream\r\nTransfer-Encoding: chunked\r\n\r\n`;
    for (const [p, port] of [['/over-streamed', proxies.cappedOff.port], ['/over-spilled', proxies.cappedTight.port]] as const) {
      const out = await exchange(head(p), Buffer.concat([chunk(6000, 4), chunk(6000, 5)]), port);
      expectTooLarge(out);
      expect(seen.find((x) => x.url === p)?.length).toBeUndefined();
    }
    // Under the limit, both pass the whole body.
    const body = crypto.randomBytes(9000);
    for (const port of [proxies.cappedOff.port, proxies.cappedTight.port]) {
      const text = await upload(port, '/under-streamed', -1, [body.subarray(0, 4000), body.subarray(4000)], 100);
      expect(text).toMatch(new RegExp(`\\r\\n\\r\\ngot 9000 ${sha(body)}$`));
    }
  });

  it('passes a body of exactly the limit', async () => {
    const body = crypto.randomBytes(10_000);
    const text = await upload(proxies.capped.port, '/at-limit', body.length, [body], 0);
    expect(text).toMatch(new RegExp(`\\r\\n\\r\\ngot 10000 ${sha(body)}$`));
  });

  it('refuses an HTTP/2 upload over it, with or without a length', async () => {
    const c = http2.connect(`https://127.0.0.1:${proxies.capped.httpsPort}`, { ca, servername: 'up.dream' });
    c.on('error', () => {});
    const post = (p: string, headers: Record<string, string>) => new Promise<{ status: number; code: unknown }>((resolve) => {
      const r = c.request({ ':method': 'POST', ':path': p, ':authority': 'up.dream', ...headers });
      r.on('response', (h) => resolve({ status: Number(h[':status']), code: h['x-dream-error'] }));
      r.on('error', () => {});
      r.end(Buffer.alloc(20_000, 3));
    });
    expect(await post('/h2-over-length', { 'content-length': '20000' })).toEqual({ status: 413, code: 'REQUEST_BODY_TOO_LARGE' });
    expect(await post('/h2-over-unsized', {})).toEqual({ status: 413, code: 'REQUEST_BODY_TOO_LARGE' });
    expect(seen.find((x) => x.url.startsWith('/h2-over'))).toBeUndefined();
    c.close();
  });
});

describe('an app\'s own settings (maxRequestBody, requestBuffering on its route)', () => {
  /**
   * POSTs `parts` to `host` on a raw connection (Connection: close), `gapMs` between them, `during`
   * in the last gap; resolves with all that came back once the proxy closed.
   */
  async function post(port: number, host: string, p: string, parts: Buffer[], gapMs = 0, during: () => void = () => {}): Promise<string> {
    const { s, closed } = raw(port);
    const length = parts.reduce((n, b) => n + b.length, 0);
    s.write(`POST ${p} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`);
    for (const [i, part] of parts.entries()) {
      if (s.destroyed) break;
      s.write(part);
      if (i < parts.length - 1) { await sleep(gapMs); if (i === parts.length - 2) during(); }
    }
    return closed;
  }

  it('lets through a body up to the app\'s limit where the proxy\'s is lower, and none over it', async () => {
    const body = crypto.randomBytes(20_000);
    expect(await post(proxies.capped.port, 'roomy.dream', '/roomy', [body])).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[^]*got 20000 ${sha(body)}$`));
    expect(await post(proxies.capped.port, 'unlimited.dream', '/unlimited', [body])).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*got 20000 /);
    const over = await post(proxies.capped.port, 'roomy.dream', '/roomy-over', [crypto.randomBytes(60_000)]);
    expect(over).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n[^]*\r\n\r\nThe request body is larger than this app accepts \(50000 bytes\)\./);
    expect(seen.find((x) => x.url === '/roomy-over')).toBeUndefined();
  });

  it('refuses a body over the app\'s limit where the proxy has none', async () => {
    const out = await post(proxies.on.port, 'strict.dream', '/strict', [Buffer.alloc(200, 1)]);
    expect(out).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n[^]*x-dream-error: REQUEST_BODY_TOO_LARGE\r\n[^]*\(100 bytes\)/i);
    expect(seen.find((x) => x.url === '/strict')).toBeUndefined();
    // Under it, as any other request.
    expect(await post(proxies.on.port, 'strict.dream', '/strict-ok', [Buffer.alloc(100, 1)])).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*got 100 /);
  });

  it('streams an app that turned buffering off, and buffers one that turned it on, whatever the proxy\'s setting', async () => {
    const body = crypto.randomBytes(30_000);
    const parts = [body.subarray(0, 1000), body.subarray(1000)];
    let asked: Seen | undefined;
    const streamed = await post(proxies.on.port, 'streams.dream', '/streams', parts, 500, () => { asked = seen.find((x) => x.url === '/streams'); });
    expect(asked).toBeDefined();
    expect(streamed).toMatch(new RegExp(`got 30000 ${sha(body)}$`));
    asked = undefined;
    const buffered = await post(proxies.off.port, 'buffers.dream', '/buffers', parts, 500, () => { asked = seen.find((x) => x.url === '/buffers'); });
    expect(asked).toBeUndefined();
    expect(buffered).toMatch(new RegExp(`got 30000 ${sha(body)}$`));
    // The proxy's own setting still holds for the apps without one.
    asked = undefined;
    await post(proxies.off.port, 'up.dream', '/up-off', parts, 500, () => { asked = seen.find((x) => x.url === '/up-off'); });
    expect(asked).toBeDefined();
  });

  it('follows a changed setting with the next route table', async () => {
    api.setRoutes(initialRoutes.map((r) => (r.app === 'strict' ? { ...r, maxRequestBody: 1000 } : r)));
    // Each proxy polls the api (held polls wake at once): the next request after the new table passes.
    await expect.poll(() => post(proxies.on.port, 'strict.dream', '/strict-raised', [Buffer.alloc(200, 1)]), { timeout: 10_000 }).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*got 200 /);
    // Back to 100: refused again.
    api.setRoutes(initialRoutes);
    await expect.poll(() => post(proxies.on.port, 'strict.dream', '/strict-lowered', [Buffer.alloc(200, 1)]), { timeout: 10_000 }).toMatch(/^HTTP\/1\.1 413 /);
  });
});
