// The head limits hold the same on every request path of the proxy (apps/proxy/README.md § Head
// limits, docs/errors.md): a request head is at most 16 KB and an app's response header fields at
// most 64 KB, both counted as HTTP/1.1 text in canonical form. A head at the limit reaches the app
// (or the client) with every field; one byte over gets the proxy's 431 / 502 page, whichever way it
// came: the fast path, node:http after a hand-off (chunked upload, WebSocket upgrade), TLS, HTTP/2.
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTlsProxy } from './proxy-helpers.js';

const MAX_REQUEST_HEAD = 16 * 1024;
const MAX_RESPONSE_FIELDS = 64 * 1024;
const HOST = 'limits.dream';

type Field = [string, string];
type Shape = 'few large fields' | 'many tiny fields';

/** `base` plus filler fields making `size` bytes of `name: value\r\n` lines (exactly; `size` ≥ base + 8). */
function fill(base: Field[], size: number, shape: Shape): Field[] {
  const fields = [...base];
  let left = size - base.reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  if (shape === 'few large fields') {
    // One big field ("x-big: …", 9 bytes around its value) after a few ordinary ones.
    for (let i = 0; left >= 200 + 9 + 20; i++) { if (i === 3) break; fields.push([`x-f${i}`, 'v'.repeat(200 - 8)]); left -= 200; }
    fields.push(['x-big', 'b'.repeat(left - 9)]);
    return fields;
  }
  // "zNNN: " lines of 8 bytes, the last one taking the remainder in its value.
  let i = 0;
  for (; left >= 16; i++, left -= 8) fields.push([`z${i.toString(36).padStart(3, '0')}`, '']);
  fields.push([`z${i.toString(36).padStart(3, '0')}`, 'v'.repeat(left - 8)]);
  return fields;
}

const lines = (fields: Field[]) => fields.map(([k, v]) => `${k}: ${v}\r\n`).join('');
const countZ = (names: string[]) => names.filter((k) => /^z[0-9a-z]{3}$/i.test(k)).length;
const bigOf = (fields: Field[]) => fields.find(([k]) => k === 'x-big')?.[1].length ?? 0;

let app: http.Server;
let env: Awaited<ReturnType<typeof startTlsProxy>>;
/** Request ids (the `id` query parameter) the app received. */
const seen = new Set<string>();

/** The app: /req reports what it got (tiny fields, the big one); /res?size=&shape= answers with that many bytes of fields. */
function summary(req: http.IncomingMessage): { id: string; z: number; big: number } {
  const names = req.rawHeaders.filter((_, i) => i % 2 === 0);
  const url = new URL(req.url ?? '/', 'http://x');
  const id = url.searchParams.get('id') ?? '';
  seen.add(id);
  return { id, z: countZ(names), big: String(req.headers['x-big'] ?? '').length };
}
/** The fields of the app's sized responses besides the filler. */
const APP_200: Field[] = [['content-type', 'text/plain'], ['content-length', '2'], ['connection', 'keep-alive']];
const APP_101: Field[] = [['upgrade', 'websocket'], ['connection', 'Upgrade']];
function responseFields(req: http.IncomingMessage, base: Field[]): Field[] {
  const url = new URL(req.url ?? '/', 'http://x');
  return fill(base, Number(url.searchParams.get('size')), url.searchParams.get('shape') as Shape);
}

beforeAll(async () => {
  // A real app server that takes heads far larger than the proxy's limits, and every field.
  app = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/res?')) {
        // Exactly these fields: no Date, and no Keep-Alive/Transfer-Encoding added by node.
        res.sendDate = false;
        res.writeHead(200, responseFields(req, APP_200).flat());
        res.end('ok');
        return;
      }
      const body = JSON.stringify(summary(req));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  app.maxHeadersCount = 0;
  app.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    socket.on('error', () => {});
    const fields: Field[] = req.url?.startsWith('/res?')
      ? responseFields(req, APP_101)
      : (() => { const s = summary(req); return [['upgrade', 'websocket'], ['connection', 'Upgrade'], ['x-z', String(s.z)], ['x-big-length', String(s.big)]] as Field[]; })();
    socket.end(`HTTP/1.1 101 Switching Protocols\r\n${lines(fields)}\r\n`);
  });
  const port = await new Promise<number>((r) => app.listen(0, '127.0.0.1', () => r((app.address() as AddressInfo).port)));
  env = await startTlsProxy('int_head-limits', [{ app: 'limits', hosts: [HOST], endpoints: [{ host: '127.0.0.1', port }] }], [HOST]);
});

afterAll(async () => {
  await env?.close();
  app?.closeAllConnections();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
});

interface Reply { status: number; fields: Field[]; body: string }
const field = (r: Reply, name: string) => r.fields.find(([k]) => k.toLowerCase() === name)?.[1];

/** Writes `raw` on a fresh connection (TLS with ALPN http/1.1 when `secure`); reads one response (a 101 ends it). */
function exchange(secure: boolean, raw: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s: net.Socket = secure
      ? tls.connect({ host: '127.0.0.1', port: env.proxy.httpsPort!, servername: HOST, ca: env.ca, ALPNProtocols: ['http/1.1'] })
      : net.connect(env.proxy.port, '127.0.0.1');
    s.on(secure ? 'secureConnect' : 'connect', () => s.write(raw, 'latin1'));
    let buf = Buffer.alloc(0);
    let reply: Reply | null = null;
    let length = -1;
    const done = () => { s.destroy(); resolve(reply!); };
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!reply) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [start, ...rest] = buf.toString('latin1', 0, end).split('\r\n');
        reply = { status: Number(start!.split(' ')[1]), fields: rest.map((l) => { const c = l.indexOf(':'); return [l.slice(0, c), l.slice(c + 1).trim()] as Field; }), body: '' };
        buf = buf.subarray(end + 4);
        length = reply.status === 101 ? 0 : Number(field(reply, 'content-length') ?? -1);
      }
      if (length >= 0 && buf.length >= length) { reply.body = buf.toString('utf8', 0, length); done(); }
    });
    s.on('error', reject);
    s.on('close', () => { if (reply) { reply.body ||= buf.toString('utf8'); resolve(reply); } else reject(new Error(`closed without a response (${buf.length} bytes)`)); });
  });
}

async function overH2(method: string, path: string, fields: Field[]): Promise<Reply> {
  const session = http2.connect(`https://127.0.0.1:${env.proxy.httpsPort}`, { ca: env.ca, servername: HOST, maxHeaderListPairs: 100_000, settings: { maxHeaderListSize: 1 << 22 } });
  session.on('error', () => {});
  try {
    return await new Promise<Reply>((resolve, reject) => {
      const req = session.request({ ':method': method, ':path': path, ':authority': HOST, ...Object.fromEntries(fields) });
      let status = 0; let got: Field[] = []; let body = '';
      req.on('response', (h) => {
        status = Number(h[':status']);
        got = Object.entries(h).filter(([k]) => !k.startsWith(':')).flatMap(([k, v]) => (Array.isArray(v) ? v : [String(v)]).map((one) => [k, one] as Field));
      });
      req.setEncoding('utf8');
      req.on('data', (c) => { body += c; });
      req.on('end', () => resolve({ status, fields: got, body }));
      req.on('error', reject);
      req.end();
    });
  } finally { session.close(); }
}

interface Path {
  name: string;
  method: string;
  /** Fields the path needs besides Host and the filler. */
  fields: Field[];
  send(method: string, target: string, fields: Field[]): Promise<Reply>;
}
const HTTP1 = (secure: boolean, body = '') => (method: string, target: string, fields: Field[]) =>
  exchange(secure, `${method} ${target} HTTP/1.1\r\n${lines([['host', HOST], ...fields])}\r\n${body}`);
const UPGRADE: Field[] = [['upgrade', 'websocket'], ['connection', 'Upgrade'], ['sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['sec-websocket-version', '13']];
const PATHS: Path[] = [
  { name: 'HTTP/1.1, fast path', method: 'GET', fields: [], send: HTTP1(false) },
  { name: 'HTTP/1.1 chunked upload, node:http', method: 'POST', fields: [['transfer-encoding', 'chunked']], send: HTTP1(false, '0\r\n\r\n') },
  { name: 'HTTP/1.1 WebSocket upgrade, node:http', method: 'GET', fields: UPGRADE, send: HTTP1(false) },
  { name: 'HTTPS/1.1, fast path', method: 'GET', fields: [], send: HTTP1(true) },
  { name: 'HTTPS/1.1 chunked upload, node:http', method: 'POST', fields: [['transfer-encoding', 'chunked']], send: HTTP1(true, '0\r\n\r\n') },
  // :method and :path make the request line; :authority counts as the Host field it stands for.
  { name: 'HTTP/2', method: 'GET', fields: [], send: (method, target, fields) => overH2(method, target, fields) },
];
const SHAPES: Shape[] = ['few large fields', 'many tiny fields'];
const table = <T>(sizes: Array<[number, T]>) => PATHS.flatMap((p) => SHAPES.flatMap((shape) => sizes.map(([size, want]) => [p.name, shape, size, want, p] as const)));

let ids = 0;
describe('request heads: 16 KB as HTTP/1.1 text, the same on every path', () => {
  it.each(table<'app' | 431>([[MAX_REQUEST_HEAD - 1, 'app'], [MAX_REQUEST_HEAD, 'app'], [MAX_REQUEST_HEAD + 1, 431]]))('%s, %s, %d bytes → %s', async (_name, shape, size, want, p) => {
    const id = `r${++ids}-${Date.now()}`;
    const target = `/req?id=${id}`;
    const line = `${p.method} ${target} HTTP/1.1\r\n`.length;
    const fields = fill(p.fields, size - line - `host: ${HOST}\r\n`.length, shape);
    // The head as the rule counts it: request line and field lines, the blank line not counted.
    expect(line + lines([['host', HOST], ...fields]).length).toBe(size);
    const r = await p.send(p.method, target, fields);
    const z = countZ(fields.map(([k]) => k));
    if (want === 'app') {
      const got = r.status === 101 ? { z: Number(field(r, 'x-z')), big: Number(field(r, 'x-big-length')) } : JSON.parse(r.body) as { z: number; big: number };
      expect([r.status, got.z, got.big]).toEqual([p.name.includes('upgrade') ? 101 : 200, z, bigOf(fields)]);
    } else {
      expect([r.status, field(r, 'x-dream-error')]).toEqual([431, 'HEADERS_TOO_LARGE']);
      expect(r.body).toContain('larger than this proxy accepts (16 KB)');
      expect(seen.has(id), 'the app got the request').toBe(false);
    }
  });
});

describe('response heads: 64 KB of fields from the app, the same on every path', () => {
  it.each(table<'client' | 502>([[MAX_RESPONSE_FIELDS, 'client'], [MAX_RESPONSE_FIELDS + 1, 502]]))('%s, %s, %d bytes → %s', async (_name, shape, size, want, p) => {
    const target = `/res?size=${size}&shape=${encodeURIComponent(shape)}`;
    const r = await p.send(p.method, target, p.fields);
    if (want === 'client') {
      // Every field the app sent is there (hop-by-hop ones aside), the big one whole.
      const sent = fill(p.name.includes('upgrade') ? APP_101 : APP_200, size, shape);
      expect([r.status, countZ(r.fields.map(([k]) => k)), field(r, 'x-big')?.length ?? 0]).toEqual([p.name.includes('upgrade') ? 101 : 200, countZ(sent.map(([k]) => k)), bigOf(sent)]);
      if (r.status === 200) expect(r.body).toBe('ok');
    } else {
      expect([r.status, field(r, 'x-dream-error')]).toEqual([502, 'UPSTREAM_INVALID_RESPONSE']);
      expect(r.body).toContain('response head over 64 KB');
    }
  });
});
