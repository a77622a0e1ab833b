// The proxy's raw-socket fast path (apps/proxy/src/fast) byte for byte: raw clients and raw
// upstreams on 127.0.0.1, so framing, pipelining, reuse, back-pressure and the hand-off to
// node:http are seen exactly as a client and an app see them.
import crypto from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyHandle } from '../../apps/proxy/src/index.js';
import { eachRequest, startPlainProxy } from './proxy-helpers.js';

const TOKEN = 'int_fast-path';
let edge: Awaited<ReturnType<typeof startPlainProxy>>;
let proxy: ProxyHandle;
const servers: net.Server[] = [];

/** A raw upstream: `answer(requestHead, socket, body)` writes whatever bytes it likes. */
async function rawUpstream(answer: (head: string, s: net.Socket, body: Buffer) => void) {
  const seen = { connections: 0, heads: [] as string[] };
  const server = net.createServer((s) => {
    seen.connections++;
    eachRequest(s, (head, body) => {
      seen.heads.push(head);
      answer(head, s, body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, seen };
}

/** Sends raw bytes to the proxy and collects what comes back until the proxy closes or `ms` pass. */
function rawExchange(bytes: string | Buffer, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(proxy.port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', () => {});
    const t = setTimeout(() => { s.destroy(); resolve(out); }, ms);
    s.on('close', () => { clearTimeout(t); resolve(out); });
    s.write(bytes);
  });
}

const path1 = (head: string) => head.split(' ')[1]!;
let echo: Awaited<ReturnType<typeof rawUpstream>>;
let odd: Awaited<ReturnType<typeof rawUpstream>>;

beforeAll(async () => {
  // Content-Length answers naming the path (and the body's sha256 when there is one).
  echo = await rawUpstream((head, s, body) => {
    const text = `${path1(head)}${body.length ? ` ${crypto.createHash('sha256').update(body).digest('hex')}` : ''}`;
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${text.length}\r\nConnection: keep-alive, X-Private\r\nX-Private: secret\r\n\r\n${text}`);
  });
  // Odd but legal (and some illegal) framings, chosen by path.
  odd = await rawUpstream((head, s) => {
    const p = path1(head);
    if (p === '/chunked') {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe');
      setTimeout(() => s.write('llo\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'), 30);
    } else if (p === '/until-close') {
      s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it');
    } else if (p === '/garbage') {
      s.write('NOT HTTP AT ALL\r\n\r\n');
    } else if (p === '/cut') {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b');
      setTimeout(() => s.destroy(), 30);
    } else if (p === '/big') {
      const chunk = Buffer.alloc(1 << 20, 'x');
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${8 << 20}\r\n\r\n`);
      for (let i = 0; i < 8; i++) s.write(chunk);
    } else if (p === '/no-content') {
      s.write('HTTP/1.1 204 No Content\r\n\r\n');
    } else if (p === '/hints') {
      s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }
  });
  // Answers 413 as soon as a head arrives and never reads the body (as an app with an upload limit).
  const early = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => { s.pause(); s.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large'); });
  });
  servers.push(early);
  await new Promise<void>((r) => early.listen(0, '127.0.0.1', () => r()));
  edge = await startPlainProxy(TOKEN, [
    { app: 'echo', hosts: ['echo.dream'], endpoints: [{ host: '127.0.0.1', port: echo.port }] },
    { app: 'odd', hosts: ['odd.dream'], endpoints: [{ host: '127.0.0.1', port: odd.port }] },
    { app: 'early', hosts: ['early.dream'], endpoints: [{ host: '127.0.0.1', port: (early.address() as AddressInfo).port }] },
  // Uploads on the fast path: buffered (the default), a body still to come goes to node:http's path.
  ], { DREAM_PROXY_REQUEST_BUFFERING: 'off' });
  proxy = edge.proxy;
});

afterAll(async () => {
  await edge?.close();
  for (const s of servers) s.close();
});

describe('proxy fast path', () => {
  it('answers pipelined requests in order on one connection and reuses one upstream connection', async () => {
    const before = echo.seen.connections;
    const out = await rawExchange('GET /1 HTTP/1.1\r\nHost: echo.dream\r\n\r\nGET /2 HTTP/1.1\r\nHost: echo.dream\r\n\r\nGET /3 HTTP/1.1\r\nHost: echo.dream\r\nConnection: close\r\n\r\n');
    const bodies = out.split('HTTP/1.1 200 OK').slice(1).map((r) => r.split('\r\n\r\n')[1]);
    expect(bodies).toEqual(['/1', '/2', '/3']);
    expect(out).toMatch(/connection: close\r\n/);
    expect(echo.seen.connections - before).toBe(1);
  });

  it('drops hop-by-hop and Connection-listed fields both ways and sets X-Forwarded-*', async () => {
    const out = await rawExchange('GET /h HTTP/1.1\r\nHost: echo.dream\r\nConnection: X-Mine\r\nX-Mine: 1\r\nX-Forwarded-For: 6.6.6.6\r\nKeep-Alive: timeout=1\r\nConnection: close\r\n\r\n');
    const head = echo.seen.heads.at(-1)!.toLowerCase();
    expect(head).not.toMatch(/x-mine|keep-alive|6\.6\.6\.6|connection:/);
    expect(head).toMatch(/\r\nx-forwarded-for: 127\.0\.0\.1\r\n/);
    expect(head).toMatch(/\r\nx-forwarded-proto: http\r\n/);
    expect(head).toMatch(/\r\nx-request-id: [0-9a-f]{32}(\r\n|$)/);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out.toLowerCase()).not.toMatch(/x-private/);
  });

  it('passes a Content-Length body through byte for byte', async () => {
    const body = crypto.randomBytes(1 << 20);
    const out = await rawExchange(Buffer.concat([Buffer.from(`POST /up HTTP/1.1\r\nHost: echo.dream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]), 5000);
    expect(out).toMatch(new RegExp(`/up ${crypto.createHash('sha256').update(body).digest('hex')}$`));
  });

  it('relays a chunked response split across packets, trailers included, and keeps the connection', async () => {
    const out = await rawExchange('GET /chunked HTTP/1.1\r\nHost: odd.dream\r\n\r\nGET /after HTTP/1.1\r\nHost: echo.dream\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/transfer-encoding: chunked\r\n/i);
    expect(out).toContain('\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 200 OK');
    expect(out.endsWith('/after')).toBe(true);
  });

  it('relays a body that ends when the app closes, then closes the client connection', async () => {
    const out = await rawExchange('GET /until-close HTTP/1.1\r\nHost: odd.dream\r\n\r\n');
    expect(out).toMatch(/connection: close\r\n/);
    expect(out.endsWith('\r\n\r\nall of it')).toBe(true);
  });

  it('relays 204 and 103 Early Hints without inventing bodies', async () => {
    const out = await rawExchange('GET /no-content HTTP/1.1\r\nHost: odd.dream\r\n\r\nGET /hints HTTP/1.1\r\nHost: odd.dream\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 204 No Content\r\n[^]*?\r\n\r\nHTTP\/1\.1 103 Early Hints\r\nLink: <\/a\.css>; rel=preload\r\n[^]*?\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
  });

  it('answers 502 with a catalogued code when the app answers garbage', async () => {
    const out = await rawExchange('GET /garbage HTTP/1.1\r\nHost: odd.dream\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(out).toMatch(/x-dream-error: UPSTREAM_INVALID_RESPONSE\r\n[^]*a malformed response head/);
  });

  it('cuts the client connection when the app dies mid-body (no short "complete" response)', async () => {
    const res = await new Promise<{ got: string; error: string }>((resolve) => {
      const req = http.get({ port: proxy.port, host: '127.0.0.1', path: '/cut', headers: { host: 'odd.dream' } }, (r) => {
        let got = '';
        r.on('data', (d) => (got += d));
        r.on('error', (e) => resolve({ got, error: e.message }));
        r.on('end', () => resolve({ got, error: '' }));
      });
      req.on('error', (e) => resolve({ got: '', error: e.message }));
    });
    expect(res.got).toBe('only ten b');
    expect(res.error).toMatch(/aborted/);
  });

  it('holds a slow reader without losing a byte (8 MB response)', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      http.get({ port: proxy.port, host: '127.0.0.1', path: '/big', headers: { host: 'odd.dream' } }, (r) => {
        const parts: Buffer[] = [];
        r.pause();
        setTimeout(() => { r.on('data', (d: Buffer) => parts.push(d)); r.resume(); }, 500);
        r.on('end', () => resolve(Buffer.concat(parts)));
        r.on('error', reject);
      }).on('error', reject);
    });
    expect(body.length).toBe(8 << 20);
    expect(body.every((b) => b === 120)).toBe(true);
  });

  it('keeps a head that arrives in two reads while another connection is read in between', async () => {
    // Plain clients are read into one shared buffer (fast/listen.ts): the first half must be copied.
    const s = net.connect(proxy.port, '127.0.0.1');
    const other = net.connect(proxy.port, '127.0.0.1');
    other.on('data', () => {});
    const out = new Promise<string>((resolve) => { let o = ''; s.on('data', (d) => (o += d.toString('latin1'))); s.on('close', () => resolve(o)); });
    const pause = () => new Promise((r) => setTimeout(r, 50));
    s.write('GET /first-half');
    await pause();
    other.write('GET /overwrites-the-shared-buffer HTTP/1.1\r\nHost: echo.dream\r\n\r\n');
    await pause();
    s.write('-second-half HTTP/1.1\r\nHost: echo.dream\r\nConnection: close\r\n\r\n');
    const text = await out;
    other.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/first-half-second-half$/);
  });

  it('keeps bodies and pipelined heads intact when they arrive split across many reads', async () => {
    // Plain clients are read into one shared buffer (fast/listen.ts) that the next read of any
    // connection overwrites: what the proxy keeps across reads must be its own copy.
    const a = crypto.randomBytes(300_000);
    const b = crypto.randomBytes(70_000);
    const wire = Buffer.concat([
      Buffer.from(`POST /a HTTP/1.1\r\nHost: echo.dream\r\nContent-Length: ${a.length}\r\n\r\n`), a,
      Buffer.from(`GET /mid HTTP/1.1\r\nHost: echo.dream\r\n\r\nPOST /b HTTP/1.1\r\nHost: echo.dream\r\nContent-Length: ${b.length}\r\n\r\n`), b,
      Buffer.from('GET /end HTTP/1.1\r\nHost: echo.dream\r\nConnection: close\r\n\r\n'),
    ]);
    const sha = (x: Buffer) => crypto.createHash('sha256').update(x).digest('hex');
    const s = net.connect(proxy.port, '127.0.0.1');
    s.setNoDelay(true);
    // A second connection reading at the same time keeps overwriting the shared buffer.
    const noise = net.connect(proxy.port, '127.0.0.1');
    noise.on('error', () => {});
    noise.on('data', () => {});
    const out = new Promise<string>((resolve) => { let o = ''; s.on('data', (d) => (o += d.toString('latin1'))); s.on('close', () => resolve(o)); });
    await new Promise((r) => s.once('connect', r));
    for (let at = 0, i = 0; at < wire.length; i++) {
      const n = [1, 7, 4096, 65_536, 13, 100_000][i % 6]!;
      s.write(wire.subarray(at, at + n));
      noise.write('GET /noise HTTP/1.1\r\nHost: echo.dream\r\n\r\n');
      at += n;
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    const bodies = (await out).split('HTTP/1.1 200 OK').slice(1).map((r) => r.split('\r\n\r\n')[1]);
    noise.destroy();
    expect(bodies).toEqual([`/a ${sha(a)}`, '/mid', `/b ${sha(b)}`, '/end']);
  });

  it('hands what it does not handle to node:http: chunked uploads, HTTP/1.0, after fast requests on the same connection', async () => {
    const out = await rawExchange('GET /first HTTP/1.1\r\nHost: echo.dream\r\n\r\nPOST /te HTTP/1.1\r\nHost: echo.dream\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /last HTTP/1.0\r\nHost: echo.dream\r\n\r\n', 3000);
    const bodies = out.split(/HTTP\/1\.1 200 OK/).slice(1).map((r) => r.split('\r\n\r\n')[1]);
    expect(bodies).toEqual(['/first', `/te ${crypto.createHash('sha256').update('abc').digest('hex')}`, '/last']);
  });

  it('refuses a smuggling attempt (Content-Length with Transfer-Encoding) and the hidden request never reaches the app', async () => {
    const hidden = `/smuggled-${Date.now()}`;
    const out = await rawExchange(`POST /x HTTP/1.1\r\nHost: echo.dream\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET ${hidden} HTTP/1.1\r\nHost: echo.dream\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(echo.seen.heads.some((h) => h.includes(hidden))).toBe(false);
  });

  it('answers what node:http refuses with its status and a catalogued code: bare LFs at once, a 20 KB head, two Host lines', async () => {
    // rawExchange gives up after 1.5 s: far below the head timeout a bare-LF head used to wait out.
    const lf = await rawExchange('GET / HTTP/1.1\nHost: echo.dream\n\n');
    expect(lf).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(lf).toMatch(/\r\nx-dream-error: BAD_REQUEST\r\n[^]*lines must end in CRLF/);
    const big = await rawExchange(`GET / HTTP/1.1\r\nHost: echo.dream\r\nX-Big: ${'y'.repeat(20000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*x-dream-error: HEADERS_TOO_LARGE\r\n/);
    const before = echo.seen.heads.length;
    const twoHosts = await rawExchange('GET /two-hosts HTTP/1.1\r\nHost: echo.dream\r\nHost: odd.dream\r\n\r\n');
    expect(twoHosts).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*x-dream-error: BAD_REQUEST\r\n/);
    expect(echo.seen.heads.slice(before).some((h) => h.includes('/two-hosts'))).toBe(false);
  });

  it.each([['a field without a colon', 'Bad Field\r\n'], ['bare LFs', '']])('lets a client that sends a body after a head node:http refuses (%s) read its 400, then closes cleanly', async (_what, bad) => {
    // node's parser refuses every later chunk too: answering each with a destroy reset the client.
    const head = bad ? `POST /x HTTP/1.1\r\nHost: echo.dream\r\n${bad}Content-Length: ${8 << 20}\r\n\r\n` : `POST /x HTTP/1.1\nHost: echo.dream\nContent-Length: ${8 << 20}\n\n`;
    const s = net.connect(proxy.port, '127.0.0.1');
    let out = '';
    let error: Error | undefined;
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', (e) => (error = e));
    s.write(Buffer.concat([Buffer.from(head), Buffer.alloc(8 << 20, 1)]));
    await new Promise((r) => s.on('close', r));
    expect(error).toBeUndefined();
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*x-dream-error: BAD_REQUEST\r\n/);
  });

  it.each([['the app', 'early.dream'], ['the proxy (no such app)', 'nobody.dream']])('lets a client finish an upload %s answered without reading, then closes cleanly', async (_who, host) => {
    // 8 MB: far more than the socket buffers between client, proxy and app hold.
    const s = net.connect(proxy.port, '127.0.0.1');
    let out = '';
    let error: Error | undefined;
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', (e) => (error = e));
    const uploaded = new Promise<void>((r) => s.write(Buffer.concat([Buffer.from(`POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${8 << 20}\r\n\r\n`), Buffer.alloc(8 << 20, 1)]), () => r()));
    await new Promise((r) => s.on('close', r));
    await uploaded;
    expect(error).toBeUndefined();
    expect(out).toMatch(host === 'early.dream' ? /^HTTP\/1\.1 413 Payload Too Large\r\n[^]*\r\nconnection: close\r\n[^]*too large$/i : /^HTTP\/1\.1 404 Not Found\r\n[^]*\r\nconnection: close\r\n/i);
  });

  it('through node:http too (Expect: 100-continue): the upload the app did not read is drained and the connection serves the next request', async () => {
    const s = net.connect(proxy.port, '127.0.0.1');
    let out = '';
    let error: Error | undefined;
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', (e) => (error = e));
    await new Promise<void>((r) => s.write(Buffer.concat([Buffer.from(`POST /upload HTTP/1.1\r\nHost: early.dream\r\nExpect: 100-continue\r\nContent-Length: ${8 << 20}\r\n\r\n`), Buffer.alloc(8 << 20, 1)]), () => r()));
    s.write('GET /after HTTP/1.1\r\nHost: echo.dream\r\nConnection: close\r\n\r\n');
    await new Promise((r) => s.on('close', r));
    expect(error).toBeUndefined();
    expect(out).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 413 Payload Too Large\r\n[^]*too large[^]*HTTP\/1\.1 200 OK\r\n[^]*\/after$/);
  });

  it('closes a connection whose head never finishes arriving only after the head timeout, not at once', async () => {
    const s = net.connect(proxy.port, '127.0.0.1');
    s.on('error', () => {});
    s.write('GET /slow HTTP/1.1\r\nHost: echo.dream\r\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(s.destroyed).toBe(false);
    // The client finishes the head, asking to close: answered, then closed at once (not after the
    // keep-alive timeout). (A FIN here would be the client giving up: proxy-half-close.test.ts.)
    const t0 = Date.now();
    s.write('Connection: close\r\n\r\n');
    const out = await new Promise<string>((resolve) => { let o = ''; s.on('data', (d) => (o += d)); s.on('close', () => resolve(o)); });
    expect(out).toMatch(/^HTTP\/1\.1 200 OK[^]*\/slow$/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
