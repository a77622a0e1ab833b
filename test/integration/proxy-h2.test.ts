// HTTP/2 over TLS through the proxy: what a client sees for the requests and responses HTTP/2
// treats differently from HTTP/1.1 (authority, connection-specific fields, singleton fields,
// bodiless statuses, big header blocks, rapid resets), against an app on plain HTTP/1.1.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTlsProxy, startUpstream } from './proxy-helpers.js';

const TOKEN = 'int_test-token';
let env: Awaited<ReturnType<typeof startTlsProxy>>;
let other: Awaited<ReturnType<typeof startUpstream>>;
let app: http.Server;
let appPort = 0;
/** Requests the app holds open (/hold), by id. */
const holding = new Map<string, http.ServerResponse>();
let holdsSeen = 0;

beforeAll(async () => {
  app = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    if (p === '/hold') {
      holdsSeen++;
      const id = String(holdsSeen);
      holding.set(id, res);
      res.on('close', () => holding.delete(id));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (p === '/hop') {
        res.writeHead(200, ['Connection', 'keep-alive, x-secret', 'Keep-Alive', 'timeout=5', 'Upgrade', 'foo', 'Proxy-Connection', 'keep-alive',
          'Transfer-Encoding', 'chunked', 'x-secret', '1', 'x-kept', 'yes', 'content-type', 'text/plain']);
        res.end('hello');
      } else if (p === '/cookies') {
        res.writeHead(200, ['Set-Cookie', 'a=1; Path=/', 'Set-Cookie', 'b=2; HttpOnly', 'content-type', 'text/plain']);
        res.end('ok');
      } else if (p === '/dup') {
        // Repeated singleton fields, as some frameworks emit them.
        res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Type', 'text/html', 'ETag', '"a"', 'ETag', '"b"', 'Location', '/x', 'Location', '/y']);
        res.end('dup');
      } else if (p === '/trailers') {
        res.writeHead(200, { trailer: 'x-checksum', 'content-type': 'text/plain' });
        res.write('abc');
        res.addTrailers({ 'x-checksum': '123' });
        res.end();
      } else if (p === '/status') {
        const code = Number(url.searchParams.get('code'));
        res.writeHead(code, { etag: '"e"', ...(code === 304 ? { 'content-length': '100' } : {}) });
        res.end();
      } else if (p === '/many') {
        const n = Number(url.searchParams.get('n'));
        // Short names and empty values: many fields in a small HTTP/1.1 head.
        res.writeHead(200, Array.from({ length: n }, (_, i) => [`x${i.toString(36)}`, '']).flat().concat('content-type', 'text/plain'));
        res.end('many');
      } else if (p === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
        res.end(req.method === 'HEAD' ? undefined : 'hello');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bytes: body.length }));
      }
    });
  });
  // node:http keeps only the first ~1000 fields by default; the tests count what the proxy forwarded.
  app.maxHeadersCount = 0;
  appPort = await new Promise<number>((r) => app.listen(0, '127.0.0.1', () => r((app.address() as AddressInfo).port)));
  other = await startUpstream('OTHER');
  env = await startTlsProxy(TOKEN, [
    { app: 'h2app', hosts: ['h2.dream'], endpoints: [{ host: '127.0.0.1', port: appPort }] },
    { app: 'other', hosts: ['other.dream'], endpoints: [other.endpoint] },
  ], ['h2.dream', 'other.dream']);
});

afterAll(async () => {
  for (const res of holding.values()) res.end();
  await env?.close();
  await other?.close();
  app?.closeAllConnections();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
});

interface H2Reply { status: number; headers: http2.IncomingHttpHeaders; body: string; trailers?: http2.IncomingHttpHeaders; rstCode: number }

function connect(opts: http2.ClientSessionOptions = {}): http2.ClientHttp2Session {
  const s = http2.connect(`https://127.0.0.1:${env.proxy.httpsPort}`, { ca: env.ca, servername: 'h2.dream', ...opts });
  s.on('error', () => {});
  return s;
}

/** One request on its own session (or `session`); rejects on a stream error. */
function h2(headers: http2.OutgoingHttpHeaders, body?: string | Buffer, session?: http2.ClientHttp2Session): Promise<H2Reply> {
  const s = session ?? connect();
  return new Promise<H2Reply>((resolve, reject) => {
    const req = s.request({ ':method': 'GET', ':authority': 'h2.dream', ...headers });
    let status = 0; let got: http2.IncomingHttpHeaders = {}; let text = ''; let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h) => { got = h; status = Number(h[':status']); });
    req.on('trailers', (t) => { trailers = t; });
    req.setEncoding('utf8');
    req.on('data', (c) => { text += c; });
    // On close, once rstCode is known: NO_ERROR (0) for a stream that ended cleanly.
    req.on('close', () => resolve({ status, headers: got, body: text, trailers, rstCode: req.rstCode ?? 0 }));
    req.on('error', reject);
    req.end(body);
  }).finally(() => { if (!session) s.close(); });
}

// A minimal HTTP/2 client writing frames by hand, for what node's client refuses to send
// (connection-specific fields). HPACK: literal fields, never indexed, no Huffman coding.
function hpackInt(v: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (v < max) return [first | v];
  const out = [first | max];
  for (v -= max; v >= 128; v = Math.floor(v / 128)) out.push((v % 128) + 128);
  return [...out, v];
}
function hpack(fields: [string, string][]): Buffer {
  const bytes: number[] = [];
  for (const [k, v] of fields) {
    bytes.push(0x10, ...hpackInt(k.length, 7, 0), ...Buffer.from(k), ...hpackInt(Buffer.byteLength(v), 7, 0), ...Buffer.from(v));
  }
  return Buffer.from(bytes);
}
function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3); h[3] = type; h[4] = flags; h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}
interface Frame { type: number; flags: number; stream: number; payload: Buffer }
/** Sends one HEADERS frame (END_STREAM|END_HEADERS) on stream 1; resolves with the first frame answering it. */
function rawH2(fields: [string, string][]): Promise<Frame> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: env.proxy.httpsPort!, servername: 'h2.dream', ca: env.ca, ALPNProtocols: ['h2'] }, () => {
      sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(4, 0, 0, Buffer.alloc(0)), frame(1, 0x5, 1, hpack(fields))]));
    });
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const f = { type: buf[3]!, flags: buf[4]!, stream: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + len) };
        buf = buf.subarray(9 + len);
        if (f.type === 4 && !(f.flags & 1)) sock.write(frame(4, 1, 0, Buffer.alloc(0)));
        if (f.stream === 1 || f.type === 7) { sock.destroy(); resolve(f); return; }
      }
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error('closed without an answer')));
  });
}
const BASE: [string, string][] = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'h2.dream'], [':path', '/']];

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('HTTP/2 requests', () => {
  it('routes and forwards by :authority; a Host that names another site is a 400, never routed', async () => {
    const ok = await h2({ ':path': '/' });
    expect(JSON.parse(ok.body).headers.host).toBe('h2.dream');
    const same = await h2({ ':path': '/', host: 'H2.dream' });
    expect(same.status).toBe(200);
    expect(JSON.parse(same.body).headers.host).toBe('h2.dream');
    const before = other.received.length;
    const mismatch = await h2({ ':path': '/', host: 'other.dream' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.headers['x-dream-error']).toBe('BAD_REQUEST');
    expect(other.received.length).toBe(before);
  });

  it('answers a connection-specific request field with a stream error, and keeps serving', async () => {
    for (const f of [['connection', 'keep-alive'], ['keep-alive', 'timeout=5'], ['transfer-encoding', 'chunked'], ['upgrade', 'websocket'], ['te', 'gzip']] as [string, string][]) {
      const answer = await rawH2([...BASE, f]);
      expect([answer.type, answer.payload.readUInt32BE(0)], f[0]).toEqual([3 /* RST_STREAM */, 1 /* PROTOCOL_ERROR */]);
    }
    const ok = await rawH2([...BASE, ['te', 'trailers']]);
    expect(ok.type).toBe(1 /* HEADERS */);
    expect((await h2({ ':path': '/' })).status).toBe(200);
  });

  it('passes on request bodies with and without content-length (read whole first: the app gets Content-Length either way); request trailers do not break it', async () => {
    const withLength = await h2({ ':method': 'POST', ':path': '/', 'content-length': '70000' }, Buffer.alloc(70_000, 1));
    expect(JSON.parse(withLength.body)).toMatchObject({ bytes: 70_000, headers: { 'content-length': '70000' } });
    const unsized = await h2({ ':method': 'POST', ':path': '/' }, Buffer.alloc(70_000, 1));
    expect(JSON.parse(unsized.body)).toMatchObject({ bytes: 70_000, headers: { 'content-length': '70000' } });
    expect(JSON.parse(unsized.body).headers['transfer-encoding']).toBeUndefined();
    const s = connect();
    const withTrailers = await new Promise<string>((resolve, reject) => {
      const req = s.request({ ':method': 'POST', ':path': '/', ':authority': 'h2.dream' }, { waitForTrailers: true });
      req.on('wantTrailers', () => req.sendTrailers({ 'x-sum': '1' }));
      let b = ''; req.setEncoding('utf8'); req.on('data', (c) => { b += c; }); req.on('end', () => resolve(b)); req.on('error', reject);
      req.end('body');
    });
    s.close();
    expect(JSON.parse(withTrailers)).toMatchObject({ bytes: 4 });
  });

  it('answers a header block over 16 KB with 431 (as over HTTP/1.1) and one over 64 KB with a stream error', async () => {
    const s = connect();
    const big = await h2({ ':path': '/', 'x-big': 'a'.repeat(20_000) }, undefined, s);
    expect(big.status).toBe(431);
    expect(big.headers['x-dream-error']).toBe('HEADERS_TOO_LARGE');
    await expect(h2({ ':path': '/', 'x-big': 'a'.repeat(70_000) }, undefined, s)).rejects.toThrow();
    s.close();
    expect((await h2({ ':path': '/' })).status).toBe(200);
  });

  it('accepts as many header fields as HTTP/1.1 does, all forwarded; past 16 KB a 431 whatever the count', async () => {
    // HTTP/1.1 limits a head by size alone: the fast path takes any number of fields within 16 KB.
    const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-${i}`, 'v']));
    // 15 KB as HTTP/1.1, so under the 16 KB limit however it is counted.
    const many = fields(1500);
    const overH1 = await request(env.proxy.port, 'h2.dream', '/', { headers: many });
    expect(overH1.status).toBe(200);
    const seenH1 = JSON.parse(overH1.body).headers as Record<string, string>;
    expect(Object.keys(seenH1).filter((k) => k.startsWith('x-') && seenH1[k] === 'v')).toHaveLength(1500);
    const s = connect();
    const overH2 = await h2({ ':path': '/', ...many }, undefined, s);
    expect(overH2.status).toBe(200);
    const seen = JSON.parse(overH2.body).headers as Record<string, string>;
    expect(Object.keys(seen).filter((k) => k.startsWith('x-') && seen[k] === 'v')).toHaveLength(1500);
    // Short names, no values: 13 KB as HTTP/1.1, but over 64 KB as an HTTP/2 header list (32 more a field).
    const tiny = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i.toString(36)}`, '']));
    const small = await h2({ ':path': '/', ...tiny }, undefined, s);
    expect(small.status).toBe(200);
    expect(Object.keys(JSON.parse(small.body).headers).filter((k) => /^k[0-9a-z]+$/.test(k))).toHaveLength(2000);
    const tooMany = await h2({ ':path': '/', ...fields(3000) }, undefined, s);
    expect(tooMany.status).toBe(431);
    expect(tooMany.headers['x-dream-error']).toBe('HEADERS_TOO_LARGE');
    expect((await h2({ ':path': '/' }, undefined, s)).status).toBe(200);
    s.close();
  });
});

describe('HTTP/2 responses from an HTTP/1.1 app', () => {
  it('answers a status HTTP/2 cannot carry (600-999, passed as-is to HTTP/1.1) with the proxy\'s 502, not a reset', async () => {
    expect((await request(env.proxy.port, 'h2.dream', '/status?code=999')).status).toBe(999);
    const s = connect();
    for (const code of [600, 999]) {
      const r = await h2({ ':path': `/status?code=${code}`, accept: 'application/json' }, undefined, s);
      expect([r.status, r.rstCode], String(code)).toEqual([502, http2.constants.NGHTTP2_NO_ERROR]);
      expect(r.headers['x-dream-error']).toBe('UPSTREAM_INVALID_RESPONSE');
      expect(JSON.parse(r.body)).toMatchObject({ statusCode: 502, code: 'UPSTREAM_INVALID_RESPONSE' });
      expect(JSON.parse(r.body).message).toContain(String(code));
    }
    expect((await h2({ ':path': '/' }, undefined, s)).status).toBe(200);
    s.close();
    // A node client reads a stream reset with NO_ERROR much like an ending: the frames say which.
    const first = await rawH2([...BASE.slice(0, 3), [':path', '/status?code=999']]);
    expect(first.type).toBe(1 /* HEADERS, not RST_STREAM */);
  });

  it('passes on a response with many header fields', async () => {
    const overH1 = await request(env.proxy.port, 'h2.dream', '/many?n=1990');
    expect(overH1.status).toBe(200);
    // A client taking more than node's default 128 fields and 64 KB.
    const r = await h2({ ':path': '/many?n=1990' }, undefined, connect({ maxHeaderListPairs: 4000, settings: { maxHeaderListSize: 1 << 20 } }));
    expect(r).toMatchObject({ status: 200, body: 'many', rstCode: http2.constants.NGHTTP2_NO_ERROR });
    expect(r.headers[`x${(1989).toString(36)}`]).toBe('');
  });

  it('strips fields HTTP/2 forbids (and those Connection lists) instead of failing the response', async () => {
    const r = await h2({ ':path': '/hop' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello');
    for (const k of ['connection', 'keep-alive', 'upgrade', 'proxy-connection', 'transfer-encoding', 'x-secret']) expect(r.headers[k], k).toBeUndefined();
    expect(r.headers['x-kept']).toBe('yes');
  });

  it('sends each Set-Cookie as its own field', async () => {
    const r = await h2({ ':path': '/cookies' });
    expect(r.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
  });

  it('serves a response with a repeated singleton field (Content-Type, ETag, Location) with the first one', async () => {
    const r = await h2({ ':path': '/dup' });
    expect(r).toMatchObject({ status: 200, body: 'dup' });
    expect(r.headers).toMatchObject({ 'content-type': 'text/plain', etag: '"a"', location: '/x' });
  });

  it('completes a response that had trailers (the body intact)', async () => {
    const r = await h2({ ':path': '/trailers' });
    expect(r).toMatchObject({ status: 200, body: 'abc' });
  });

  it('sends no body for HEAD, 204 and 304', async () => {
    const head = await h2({ ':method': 'HEAD', ':path': '/text' });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('5');
    expect(await h2({ ':path': '/status?code=204' })).toMatchObject({ status: 204, body: '' });
    const nm = await h2({ ':path': '/status?code=304' });
    expect(nm).toMatchObject({ status: 304, body: '' });
    expect(nm.headers.etag).toBe('"e"');
  });
});

describe('HTTP/2 rapid reset (CVE-2023-44487)', () => {
  it('aborts the upstream request when the client resets its stream', async () => {
    const s = connect();
    const key = `127.0.0.1:${appPort}`;
    const streams = Array.from({ length: 20 }, () => s.request({ ':method': 'GET', ':path': '/hold', ':authority': 'h2.dream' }).on('error', () => {}));
    const seen = holdsSeen;
    await until(() => holdsSeen - seen === 20 || holding.size >= 20, 'the app to hold 20 requests');
    expect(env.proxy.endpoints.inFlight(key)).toBe(20);
    for (const st of streams) st.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => holding.size === 0 && env.proxy.endpoints.inFlight(key) === 0, 'the held requests to be aborted');
    s.close();
  });

  it('survives thousands of streams opened and reset at once, leaving nothing running upstream', async () => {
    const s = connect();
    for (let i = 0; i < 3000 && !s.destroyed && !s.closed; i++) {
      s.request({ ':method': 'GET', ':path': '/hold', ':authority': 'h2.dream' }).on('error', () => {}).close(http2.constants.NGHTTP2_CANCEL);
    }
    await new Promise<void>((r) => { if (s.destroyed) r(); else s.close(() => r()); });
    await until(() => holding.size === 0 && env.proxy.endpoints.inFlight(`127.0.0.1:${appPort}`) === 0, 'nothing in flight');
    expect((await h2({ ':path': '/' })).status).toBe(200);
  });
});
