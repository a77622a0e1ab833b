// An app replica that answers a malformed response head (not an oversized one: proxy-head-limits),
// a 101 to a request that asked for no upgrade, or part of a head and then closes (FIN or reset),
// gets the same treatment on every request path, as nginx's proxy_next_upstream invalid_header /
// error: an idempotent request without a body, of which the client has seen nothing yet, goes to
// another replica; anything else is not sent again and gets a 502 — UPSTREAM_INVALID_RESPONSE when
// the app answered wrongly, UPSTREAM_UNAVAILABLE when it closed before a whole head. Two replicas
// on real sockets — one writing the raw bad bytes (and keeping its connection open, as a broken app
// does, unless the variant closes it), one answering 200 — behind the fast path, node:http (an
// absolute-form target is handed to it), HTTP/2 and WebSocket upgrades (never replayed once
// connected: upgrade.ts).
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachRequest, startTlsProxy } from './proxy-helpers.js';

const HOST = 'broken.dream';
/** An app whose two replicas both answer badly. */
const ALL_BAD = 'allbad.dream';
/** What a bad replica sends, how it then ends its connection (else kept open), and the 502 a request not sent again gets. */
interface BadAnswer { bytes: string; then?: 'fin' | 'reset'; code: string; says: string }
const malformed = (bytes: string): BadAnswer => ({ bytes, code: 'UPSTREAM_INVALID_RESPONSE', says: 'a malformed response head' });
const cut = (then: 'fin' | 'reset'): BadAnswer => ({ bytes: 'HTTP/1.1 200 OK\r\nContent-Ty', then, code: 'UPSTREAM_UNAVAILABLE', says: 'did not answer' });
const UNASKED_101 = 'a 101 to a request without Upgrade';
const BAD: Record<string, BadAnswer> = {
  'a status that is not three digits': malformed('HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok'),
  'bare LF line endings': malformed('HTTP/1.1 200 OK\nContent-Length: 2\n\nok'),
  'a garbage status line': malformed('NOT HTTP AT ALL\r\n\r\n'),
  'a field line without a colon': malformed('HTTP/1.1 200 OK\r\nBad Field\r\nContent-Length: 2\r\n\r\nok'),
  'part of a head, then FIN': cut('fin'),
  'part of a head, then a reset': cut('reset'),
  [UNASKED_101]: { bytes: 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', code: 'UPSTREAM_INVALID_RESPONSE', says: 'a 101 Switching Protocols to a request that asked for no upgrade' },
};
const VARIANTS = Object.keys(BAD);

/** A raw replica: every request it read (`METHOD path`), answered by `answer(path)`. */
async function replica(answer: (path: string, method: string) => BadAnswer) {
  const got: string[] = [];
  const server = net.createServer((s) => {
    eachRequest(s, (head) => {
      const [method, target] = head.split(' ');
      got.push(`${method} ${target}`);
      const a = answer(target!, method!);
      s.write(a.bytes);
      // The reset only once the proxy read those bytes: a reset drops what it has not read yet.
      if (a.then === 'fin') { s.end(); return false; }
      if (a.then === 'reset') { setTimeout(() => s.resetAndDestroy(), 50); return false; }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { got, server, endpoint: { host: '127.0.0.1', port: (server.address() as AddressInfo).port } };
}

let env: Awaited<ReturnType<typeof startTlsProxy>>;
let bad: Awaited<ReturnType<typeof replica>>;
let bad2: Awaited<ReturnType<typeof replica>>;
let good: Awaited<ReturnType<typeof replica>>;

beforeAll(async () => {
  const answer = (path: string) => BAD[new URL(path, 'http://x').searchParams.get('v') ?? '']!;
  bad = await replica(answer);
  bad2 = await replica(answer);
  good = await replica((path, method) => { const body = `good ${method} ${path}`; return { bytes: `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, code: '', says: '' }; });
  env = await startTlsProxy('int_invalid-response', [
    { app: 'broken', hosts: [HOST], endpoints: [bad.endpoint, good.endpoint] },
    { app: 'allbad', hosts: [ALL_BAD], endpoints: [bad.endpoint, bad2.endpoint] },
  ], [HOST, ALL_BAD]);
});

afterAll(async () => {
  await env?.close();
  for (const r of [bad, bad2, good]) r?.server.close();
});

interface Reply { status: number; code: string | undefined; body: string }

/** HTTP/1.1 on a fresh connection, read until the proxy closes it (or 3 s: a hang is a status 0). */
function overHttp1(method: string, target: string, host = HOST, fields = ''): Promise<Reply> {
  return new Promise((resolve) => {
    const s = net.connect(env.proxy.port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', () => {});
    const t = setTimeout(() => s.destroy(), 3000);
    s.on('close', () => {
      clearTimeout(t);
      const end = out.indexOf('\r\n\r\n');
      resolve({ status: Number(out.split(' ')[1] ?? 0) || 0, code: /\r\nx-dream-error: (\S+)/i.exec(out.slice(0, end))?.[1], body: end < 0 ? '' : out.slice(end + 4) });
    });
    const body = method === 'GET' ? '' : 'data';
    s.write(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${body ? `Content-Length: ${body.length}\r\n` : ''}${fields || 'Connection: close\r\n'}\r\n${body}`);
  });
}

async function overH2(method: string, path: string, host = HOST): Promise<Reply> {
  const session = http2.connect(`https://127.0.0.1:${env.proxy.httpsPort}`, { ca: env.ca, servername: host });
  session.on('error', () => {});
  try {
    return await new Promise<Reply>((resolve, reject) => {
      const req = session.request({ ':method': method, ':path': path, ':authority': host, ...(method === 'GET' ? {} : { 'content-length': '4' }) }, { endStream: method === 'GET' });
      let status = 0; let code: string | undefined; let body = '';
      req.on('response', (h) => { status = Number(h[':status']); code = h['x-dream-error'] as string | undefined; });
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => resolve({ status, code, body }));
      req.on('error', reject);
      req.setTimeout(3000, () => { req.close(); resolve({ status: 0, code: undefined, body }); });
      if (method !== 'GET') req.end('data');
    });
  } finally { session.close(); }
}

type Send = (method: string, path: string, host?: string) => Promise<Reply>;
const PATHS: Array<[string, Send]> = [
  ['HTTP/1.1, fast path', overHttp1],
  ['HTTP/1.1 absolute-form, node:http', (method, path, host = HOST) => overHttp1(method, `http://${host}${path}`, host)],
  ['HTTP/2', overH2],
];
const CASES = PATHS.flatMap(([name, send]) => VARIANTS.map((v) => [name, v, send] as const));
const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
/** Requests never sent twice once an app got them: POSTs on every path, and WebSocket upgrades. */
const NOT_REPLAYED = [
  ...PATHS.flatMap(([name, send]) => VARIANTS.map((v) => [`POST, ${name}`, v, 'POST', send] as const)),
  // A 101 is the answer an upgrade asks for.
  ...VARIANTS.filter((v) => v !== UNASKED_101).map((v) => ['WebSocket upgrade, node:http', v, 'GET', (method: string, path: string) => overHttp1(method, path, HOST, UPGRADE)] as const),
];

let ids = 0;
/** A fresh path naming the bad answer `variant` (the bad replicas send it). */
const pathFor = (variant: string) => `/r${++ids}?v=${encodeURIComponent(variant)}`;

/** Two requests (round-robin puts at least one on the bad replica first) and where each went. */
async function twice(method: string, variant: string, send: Send) {
  const sent = [1, 2].map(() => pathFor(variant));
  const replies: Reply[] = [];
  for (const path of sent) replies.push(await send(method, path));
  const at = (r: typeof bad) => sent.map((p) => r.got.filter((g) => g === `${method} ${p}`).length);
  return { sent, replies, bad: at(bad), good: at(good) };
}

describe('a bad answer from an app replica', () => {
  it.each(CASES)('%s, %s from one replica of two: a GET goes to the other', async (_path, variant, send) => {
    const r = await twice('GET', variant, send);
    expect(r.bad.some((n) => n > 0), 'the bad replica was tried').toBe(true);
    expect(r.replies.map((x) => [x.status, x.body])).toEqual(r.sent.map((p) => [200, `good GET ${p}`]));
  });

  it.each(NOT_REPLAYED)('%s, %s from one replica of two: not sent again, and the 502 naming it', async (_path, variant, method, send) => {
    const r = await twice(method, variant, send);
    expect(r.bad.some((n) => n > 0), 'the bad replica was tried').toBe(true);
    r.sent.forEach((p, i) => {
      // Each request reached exactly one replica, once; the bad one's answer is the proxy's page.
      expect([r.bad[i]! + r.good[i]!, r.replies[i]!.status, r.replies[i]!.code]).toEqual(r.bad[i] ? [1, 502, BAD[variant]!.code] : [1, 200, undefined]);
      if (r.bad[i]) expect(r.replies[i]!.body).toContain(BAD[variant]!.says);
      else expect(r.replies[i]!.body).toBe(`good ${method} ${p}`);
    });
  });

  it.each(CASES)('%s, %s from both replicas: a GET tries each once, then the 502 naming it', async (_path, variant, send) => {
    const path = pathFor(variant);
    const r = await send('GET', path, ALL_BAD);
    const tried = [bad, bad2].map((x) => x.got.filter((g) => g === `GET ${path}`).length);
    expect([r.status, r.code, tried]).toEqual([502, BAD[variant]!.code, [1, 1]]);
    expect(r.body).toContain(BAD[variant]!.says);
  });
});
