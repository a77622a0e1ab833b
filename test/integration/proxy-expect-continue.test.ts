// `Expect: 100-continue` on every path that carries it: the fast path hands such a request to
// node:http (plain and TLS), HTTP/2 streams go to node:http2's compat API. A `100 Continue` promises
// that the body will be read and forwarded, so it goes out only for a request that is going to an
// app: a head over the 16 KB limit gets its 431 HEADERS_TOO_LARGE (the same page as without Expect,
// apps/proxy/README.md § Head limits) and the proxy's own answers (404 NO_ROUTE) theirs, with no
// 100 before them, and the client need not send its body.
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTlsProxy } from './proxy-helpers.js';

const MAX_REQUEST_HEAD = 16 * 1024;
const HOST = 'expect.dream';
/** Has a certificate but no route: the proxy answers 404 itself. */
const NOWHERE = 'nowhere.dream';
const BODY = 'data';

let app: http.Server;
let env: Awaited<ReturnType<typeof startTlsProxy>>;
/** The paths the app got, and the bodies it read. */
const received: string[] = [];

beforeAll(async () => {
  // Takes heads far larger than the proxy's limit (node's default, 16 KB, is below a 16 KB head plus X-Forwarded-*).
  app = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c) => (body += c));
    req.on('end', () => { received.push(req.url ?? ''); res.end(`got ${body}`); });
  });
  const port = await new Promise<number>((r) => app.listen(0, '127.0.0.1', () => r((app.address() as AddressInfo).port)));
  env = await startTlsProxy('int_expect-continue', [{ app: 'expect', hosts: [HOST], endpoints: [{ host: '127.0.0.1', port }] }], [HOST, NOWHERE]);
});

afterAll(async () => {
  await env?.close();
  app?.closeAllConnections();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
});

/** The fields of a request to `path` whose head is `size` bytes as head-limits.ts counts it (an `x-pad` field makes up the rest). */
function fields(host: string, path: string, size: number, extra: Array<[string, string]> = []): Array<[string, string]> {
  const base: Array<[string, string]> = [['host', host], ['expect', '100-continue'], ['content-length', String(BODY.length)], ...extra];
  const used = `POST ${path} HTTP/1.1\r\n`.length + base.reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  return [...base, ['x-pad', 'p'.repeat(size - used - 'x-pad: \r\n'.length)]];
}

interface Seen {
  /** The statuses the client got, in order (a 100 included). */
  statuses: number[];
  code: string | undefined;
  body: string;
}

/** HTTP/1.1 (TLS when `secure`): the head alone; the body only once a 100 came. */
function overHttp1(secure: boolean, host: string, path: string, size: number): Promise<Seen> {
  return new Promise((resolve) => {
    const s: net.Socket = secure
      ? tls.connect({ host: '127.0.0.1', port: env.proxy.httpsPort!, servername: host, ca: env.ca, ALPNProtocols: ['http/1.1'] })
      : net.connect(env.proxy.port, '127.0.0.1');
    const head = `POST ${path} HTTP/1.1\r\n${fields(host, path, size, [['connection', 'close']]).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    s.on(secure ? 'secureConnect' : 'connect', () => s.write(head));
    let out = '';
    let sentBody = false;
    s.on('data', (d) => {
      out += d.toString('latin1');
      if (!sentBody && out.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) { sentBody = true; s.write(BODY); }
    });
    s.on('error', () => {});
    const t = setTimeout(() => s.destroy(), 3000);
    s.on('close', () => {
      clearTimeout(t);
      const statuses = [...out.matchAll(/(?:^|\r\n\r\n)HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      const last = out.lastIndexOf('\r\n\r\n');
      resolve({ statuses, code: /\r\nx-dream-error: (\S+)/i.exec(out)?.[1], body: last < 0 ? '' : out.slice(last + 4) });
    });
  });
}

async function overH2(host: string, path: string, size: number): Promise<Seen> {
  const session = http2.connect(`https://127.0.0.1:${env.proxy.httpsPort}`, { ca: env.ca, servername: host });
  session.on('error', () => {});
  try {
    return await new Promise<Seen>((resolve) => {
      const [[, authority], ...rest] = fields(host, path, size);
      const req = session.request({ ':method': 'POST', ':path': path, ':authority': authority, ...Object.fromEntries(rest) }, { endStream: false });
      const seen: Seen = { statuses: [], code: undefined, body: '' };
      req.on('continue', () => { seen.statuses.push(100); req.end(BODY); });
      req.on('response', (h) => { seen.statuses.push(Number(h[':status'])); seen.code = h['x-dream-error'] as string | undefined; });
      req.setEncoding('utf8');
      req.on('data', (c) => (seen.body += c));
      req.on('end', () => resolve(seen));
      req.on('error', () => resolve(seen));
      req.setTimeout(3000, () => { req.close(); resolve(seen); });
    });
  } finally { session.close(); }
}

const PATHS: Array<[string, (host: string, path: string, size: number) => Promise<Seen>]> = [
  ['HTTP/1.1 (the fast path hands it to node:http)', (h, p, n) => overHttp1(false, h, p, n)],
  ['HTTPS/1.1 (the fast path hands it to node:http)', (h, p, n) => overHttp1(true, h, p, n)],
  ['HTTP/2', overH2],
];

let ids = 0;
describe('Expect: 100-continue', () => {
  it.each(PATHS)('%s: a head over 16 KB gets 431 HEADERS_TOO_LARGE and never a 100', async (_name, send) => {
    const path = `/upload?id=over-${++ids}`;
    const r = await send(HOST, path, MAX_REQUEST_HEAD + 1);
    expect([r.statuses, r.code]).toEqual([[431], 'HEADERS_TOO_LARGE']);
    expect(r.body).toContain('larger than this proxy accepts (16 KB)');
    expect(received).not.toContain(path);
  });

  it.each(PATHS)('%s: a head of exactly 16 KB gets 100, then the app reads the body', async (_name, send) => {
    const path = `/upload?id=at-${++ids}`;
    const r = await send(HOST, path, MAX_REQUEST_HEAD);
    expect([r.statuses, r.body, received]).toEqual([[100, 200], `got ${BODY}`, expect.arrayContaining([path])]);
  });

  it.each(PATHS)('%s: the proxy\'s own answer (no such app) comes without a 100', async (_name, send) => {
    const r = await send(NOWHERE, `/upload?id=nowhere-${++ids}`, 1000);
    expect([r.statuses, r.code]).toEqual([[404], 'NO_ROUTE']);
  });
});
