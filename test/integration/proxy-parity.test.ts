// The fast path (apps/proxy/src/fast) and node:http must forward the same request head: the same
// request is sent once in origin-form (served by the fast path) and once in absolute-form (outside
// its subset, so handed to node:http), and the head each upstream receives is compared field by field.
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlainProxy } from './proxy-helpers.js';

let edge: Awaited<ReturnType<typeof startPlainProxy>>;
let upstream: net.Server;
const heads: string[] = [];

beforeAll(async () => {
  upstream = net.createServer((s) => {
    let buf = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      heads.push(head);
      buf = '';
      // /r/N answers with RESPONSES[N]'s fields; anything else with a plain 200.
      const n = /^GET \S*\/r\/(\d+) /.exec(head)?.[1];
      s.write(`HTTP/1.1 200 OK\r\n${n === undefined ? '' : `${RESPONSES[Number(n)]![1].join('\r\n')}\r\n`}Content-Length: 2\r\n\r\nok`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  edge = await startPlainProxy('int_parity', [{ app: 'echo', hosts: ['echo.dream'], endpoints: [{ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port }] }]);
});

afterAll(async () => {
  await edge?.close();
  upstream?.close();
});

/** Sends one request on a fresh connection; returns the response head and the head the upstream got. */
async function forward(target: string, fields: string[]): Promise<{ status: string; response: string; head: string | undefined }> {
  const before = heads.length;
  const out = await new Promise<string>((resolve) => {
    const s = net.connect(edge.proxy.port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); if (got.includes('\r\n\r\nok')) s.destroy(); });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write(`GET ${target} HTTP/1.1\r\n${fields.join('\r\n')}\r\n\r\n`);
  });
  const response = out.slice(0, out.indexOf('\r\n\r\n'));
  return { status: out.split('\r\n')[0]!, response, head: heads.length > before ? heads[before] : undefined };
}

/**
 * Field lines as the app (or client) sees them, names lower-cased, values without the spaces and
 * tabs around them (only those: String#trim would also take a latin1 0xA0), sorted; left out: our
 * per-request id, Connection, which describes our own connection (node says keep-alive where the
 * fast path leaves HTTP/1.1's default unsaid), and node's Date. Keep-Alive is compared: both paths
 * announce the proxy's idle timeout to the client (proxy-client-keepalive.test.ts).
 */
const fieldsOf = (head: string) => head.split('\r\n').slice(1).map((l) => { const c = l.indexOf(':'); return `${l.slice(0, c).toLowerCase()}:${l.slice(c + 1).replace(/^[ \t]+|[ \t]+$/g, '')}`; })
  .filter((l) => !l.startsWith('x-request-id:') && !l.startsWith('connection:') && !l.startsWith('date:')).sort();

const CASES: Array<[string, string[]]> = [
  ['duplicate list fields', ['Host: echo.dream', 'Accept: a', 'accept: b', 'Cache-Control: no-cache', 'Cache-Control: max-age=0']],
  ['duplicate singleton fields', ['Host: echo.dream', 'Authorization: Bearer a', 'Authorization: Bearer b', 'User-Agent: one', 'User-Agent: two', 'Content-Type: a/b', 'Content-Type: c/d', 'Referer: /x', 'Referer: /y']],
  ['cookies', ['Host: echo.dream', 'Cookie: a=1', 'Cookie: b=2']],
  ['hop-by-hop and Connection-listed', ['Host: echo.dream', 'Connection: keep-alive, X-Secret', 'X-Secret: 1', 'Keep-Alive: timeout=5', 'TE: trailers', 'Proxy-Connection: keep-alive', 'Proxy-Authorization: Basic eA==', 'Trailer: x']],
  ['client-sent forwarding', ['Host: echo.dream', 'X-Forwarded-For: 6.6.6.6', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: evil.example', 'X-Forwarded-Port: 1', 'Forwarded: for=6.6.6.6', 'X-Real-IP: 6.6.6.6']],
  ['odd but legal values', ['Host: echo.dream', 'X-Empty:', 'X-Tabs:\t v \t', 'X-Latin: caf\xe9', 'X-Quoted: "a, b"']],
  // UTF-8 whose last byte is 0xA0 (U+00A0, U+2020 †, U+4E20 丠): only spaces and tabs are trimmed.
  ['values ending in byte 0xA0', ['Host: echo.dream', 'X-Nbsp: a\u00a0', 'X-Dagger: b\u2020', 'X-Cjk: \u4e20']],
  ['names like Object members', ['Host: echo.dream', 'constructor: x', 'toString: y', 'hasOwnProperty: z']],
  ['an uppercase Host with a port', ['Host: ECHO.dream:80', 'X-A: 1']],
  ['a client request id', ['Host: echo.dream', 'X-Request-Id: client-chosen-id-123']],
];

describe('fast path and node:http forward the same request head', () => {
  it.each(CASES)('%s', async (_what, fields) => {
    const fast = await forward('/p?q=1', fields);
    const host = fields.find((f) => f.startsWith('Host: '))!.slice(6);
    const slow = await forward(`http://${host}/p?q=1`, fields);
    expect(fast.status).toBe(slow.status);
    expect(fast.head, 'the fast path forwarded nothing').toBeDefined();
    expect(fast.head!.split('\r\n')[0]).toBe(slow.head!.split('\r\n')[0]);
    expect(fieldsOf(fast.head!)).toEqual(fieldsOf(slow.head!));
  });
});

// Upstream response fields (each answer also has Content-Length: 2 and body "ok").
const RESPONSES: Array<[string, string[]]> = [
  ['two Set-Cookies stay two lines', ['Set-Cookie: a=1; Path=/', 'Set-Cookie: b=2; HttpOnly']],
  ['hop-by-hop and Connection-listed', ['Connection: keep-alive, X-Private', 'X-Private: secret', 'Keep-Alive: timeout=5', 'Proxy-Authenticate: Basic', 'Trailer: X-T']],
  ['repeated list fields and odd values', ['Vary: Accept', 'Vary: Cookie', 'Cache-Control: no-store', 'X-Empty:', 'X-Latin: caf\xe9', 'WWW-Authenticate: Basic realm="a"', 'WWW-Authenticate: Bearer']],
  ['names like Object members', ['constructor: x', 'toString: y']],
  ['the app sets its own request id', ['X-Request-Id: from-the-app-123']],
];

describe('fast path and node:http send the client the same response head', () => {
  it.each(RESPONSES.map(([what], i) => [what, i] as const))('%s', async (_what, i) => {
    const fast = await forward(`/r/${i}`, ['Host: echo.dream']);
    const slow = await forward(`http://echo.dream/r/${i}`, ['Host: echo.dream']);
    expect(fast.status).toBe('HTTP/1.1 200 OK');
    expect(slow.status).toBe('HTTP/1.1 200 OK');
    expect(fieldsOf(fast.response)).toEqual(fieldsOf(slow.response));
    // One request id each: the app's own when it sent one, else ours (different per request).
    const ids = (head: string) => head.split('\r\n').filter((l) => /^x-request-id:/i.test(l)).map((l) => l.slice(13).trim());
    expect(ids(fast.response)).toHaveLength(1);
    expect(ids(slow.response)).toHaveLength(1);
    if (RESPONSES[i]![1].some((f) => f.startsWith('X-Request-Id'))) expect([ids(fast.response)[0], ids(slow.response)[0]]).toEqual(['from-the-app-123', 'from-the-app-123']);
  });
});

// CGI-style apps (PHP-FPM, WSGI servers, Rack) read fields as HTTP_X_FORWARDED_FOR: `X_Forwarded_For`
// and `X-Forwarded-For` become one variable, and which wins is up to the server. A client's
// underscore spelling of a field the proxy sets must not reach the app beside ours (nginx drops
// every field with an underscore by default for this reason).
describe('forwarding fields in an underscore spelling never reach the app', () => {
  const spoof = ['X_Forwarded_For: 6.6.6.6', 'X-Forwarded_Proto: https', 'x_forwarded_host: evil.example', 'X_FORWARDED_PORT: 1', 'X_Real_IP: 6.6.6.6', 'X_Request_Id: spoofed-request-id-1'];
  it.each([['fast path', '/p'], ['node:http', 'http://echo.dream/p']])('%s', async (_path, target) => {
    const got = await forward(target, ['Host: echo.dream', ...spoof, 'X_Custom_Field: kept', 'Forwarded_By_App: kept']);
    expect(got.status).toBe('HTTP/1.1 200 OK');
    const names = got.head!.split('\r\n').slice(1).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
    expect(names.filter((n) => n.includes('_'))).toEqual(['x_custom_field', 'forwarded_by_app']);
    expect(got.head).toMatch(/\r\nx-forwarded-for: 127\.0\.0\.1(\r\n|$)/);
  });
});
