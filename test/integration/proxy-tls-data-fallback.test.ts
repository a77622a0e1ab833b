// The fast path's fallback for a node that cannot switch a TLS socket to a shared read buffer
// (fast/shared-read.ts returns false): the connection then reads with 'data' events. Node 20 has
// the switch, so without this file the fallback ran on no test here. The switch is refused below;
// everything else is the real proxy over real TLS to a raw upstream.
import crypto from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readIntoShared } from '../../apps/proxy/src/fast/shared-read.js';
import { eachRequest, startTlsProxy } from './proxy-helpers.js';

vi.mock('../../apps/proxy/src/fast/shared-read.js', () => ({ readIntoShared: vi.fn(() => false) }));

const TOKEN = 'int_tls-data-fallback';
let edge: Awaited<ReturnType<typeof startTlsProxy>>;
let upstream: net.Server;
const upstreamConnections = { count: 0 };

beforeAll(async () => {
  // Answers name the path and the body's sha256; no Date field, so an answer without one came
  // through the fast path (node:http adds Date to what it forwards).
  upstream = net.createServer((s) => {
    upstreamConnections.count++;
    eachRequest(s, (head, body) => {
      const text = `${head.split(' ')[1]}${body.length ? ` ${crypto.createHash('sha256').update(body).digest('hex')}` : ''}`;
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const port = (upstream.address() as AddressInfo).port;
  edge = await startTlsProxy(TOKEN, [{ app: 'echo', hosts: ['echo.dream'], endpoints: [{ host: '127.0.0.1', port }] }], ['echo.dream']);
});

afterAll(async () => {
  await edge?.close();
  await new Promise((r) => upstream?.close(r));
});

interface Answer { status: string; head: string; body: string }

/** One TLS connection: writes each part (a gap between them), returns the answers parsed off it once `count` came. */
async function overOneConnection(parts: string[], count: number): Promise<Answer[]> {
  const s = tls.connect({ host: '127.0.0.1', port: edge.proxy.httpsPort!, servername: 'echo.dream', ca: edge.ca, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => { s.once('secureConnect', resolve); s.once('error', reject); });
  const answers: Answer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${answers.length} of ${count} answers within 5 s`)), 5000);
    // Answers are framed like the requests eachRequest() reads: a head, then Content-Length bytes.
    eachRequest(s, (head, body) => {
      answers.push({ status: head.split('\r\n')[0]!, head, body: body.toString('latin1') });
      if (answers.length >= count) { clearTimeout(timer); resolve(); }
    });
  });
  for (const p of parts) { s.write(p); await new Promise((r) => setTimeout(r, 30)); }
  await done;
  s.destroy();
  return answers;
}

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const dated = (a: Answer) => /\r\ndate:/i.test(a.head);

describe('fast path over TLS without the shared read buffer', () => {
  it('answers pipelined requests, a head split across reads and a request with its body on one connection', async () => {
    const body = 'x'.repeat(3000);
    const answers = await overOneConnection([
      'GET /one HTTP/1.1\r\nHost: echo.dream\r\n\r\nGET /two HTTP/1.1\r\nHost: echo.dream\r\n\r\n',
      // The first part is kept until the rest comes: a 'data' chunk is the connection's own, a
      // shared buffer's view would be overwritten by the next read.
      'GET /split HTTP/1.1\r\nHo',
      'st: echo.dream\r\n\r\n',
      `POST /upload HTTP/1.1\r\nHost: echo.dream\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /last HTTP/1.1\r\nHost: echo.dream\r\n\r\n`,
    ], 5);
    expect(vi.mocked(readIntoShared)).toHaveBeenCalled();
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill('HTTP/1.1 200 OK'));
    expect(answers.map((a) => a.body)).toEqual(['/one', '/two', '/split', `/upload ${sha(body)}`, '/last']);
    // The fast path answered all five (node:http would have added Date), each with our request id.
    expect(answers.filter(dated)).toEqual([]);
    expect(answers.every((a) => /\r\nx-request-id: \S+/i.test(a.head))).toBe(true);
    expect(upstreamConnections.count).toBe(1);
  });

  it('hands node:http what the fast path does not take, with the bytes it read, after fast answers', async () => {
    // An absolute-form target (proxy-parity.test.ts) and a body still to come after the head's
    // read go to node:http; the connection is node's from then on.
    const body = 'y'.repeat(3000);
    for (const [handed, rest] of [
      ['GET http://echo.dream/slow HTTP/1.1\r\nHost: echo.dream\r\n\r\n', ['']],
      [`POST /slow HTTP/1.1\r\nHost: echo.dream\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 1000)}`, [body.slice(1000)]],
    ] as const) {
      const answers = await overOneConnection([
        'GET /fast HTTP/1.1\r\nHost: echo.dream\r\n\r\n',
        handed, ...rest,
        'GET /after HTTP/1.1\r\nHost: echo.dream\r\n\r\n',
      ].filter(Boolean), 3);
      expect(answers.map((a) => a.status)).toEqual(Array(3).fill('HTTP/1.1 200 OK'));
      expect(answers.map((a) => a.body)).toEqual(['/fast', rest[0] ? `/slow ${sha(body)}` : '/slow', '/after']);
      expect(answers.map(dated)).toEqual([false, true, true]);
    }
  });
});
