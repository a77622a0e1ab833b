// An app closing an idle keep-alive connection at the moment the proxy reuses it: a POST on it is
// reset and cannot be retried (its body may have been read), so the proxy must not send one on a
// connection the app announced (`Keep-Alive: timeout=N`) it is about to close. The app here is a
// raw TCP server that announces timeout=1 and, like a server whose idle timer fires as the request
// arrives, resets a connection that receives bytes after 1 s of idleness.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startPlainProxy } from './proxy-helpers.js';

const TOKEN = 'int_keepalive-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Answers every request 200 announcing `timeout=<secs>` (unless `announce: false`); resets a
 * connection idle for `secs` once bytes arrive. With `finDelayMs`, also closes a connection idle for
 * `secs` itself, its FIN reaching the proxy `finDelayMs` after its timer fired (a trip over a network).
 */
async function announcingApp(secs: number, o: { announce?: boolean; finDelayMs?: number } = {}) {
  const stats = { connections: 0, resets: 0 };
  const server = net.createServer((s) => {
    stats.connections++;
    let buf = Buffer.alloc(0);
    let idleSince = Date.now();
    let closer: NodeJS.Timeout | undefined;
    s.on('close', () => clearTimeout(closer));
    s.on('data', (d: Buffer) => {
      if (buf.length === 0 && Date.now() - idleSince >= secs * 1000) { stats.resets++; s.resetAndDestroy(); return; }
      clearTimeout(closer);
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const cl = Number(/\r\ncontent-length: *(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (buf.length < end + 4 + cl) return;
      buf = Buffer.alloc(0);
      const body = JSON.stringify({ bytes: cl });
      s.write(`HTTP/1.1 200 OK\r\n${o.announce === false ? '' : `Keep-Alive: timeout=${secs}\r\n`}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      idleSince = Date.now();
      if (o.finDelayMs !== undefined) closer = setTimeout(() => s.end(), secs * 1000 + o.finDelayMs);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { stats, port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let app1: Awaited<ReturnType<typeof announcingApp>>;
let app3: Awaited<ReturnType<typeof announcingApp>>;
let silentFast: Awaited<ReturnType<typeof announcingApp>>;
let silentNode: Awaited<ReturnType<typeof announcingApp>>;
let env: Awaited<ReturnType<typeof startPlainProxy>>;

beforeAll(async () => {
  app1 = await announcingApp(1);
  app3 = await announcingApp(3);
  // gunicorn-like: closes idle connections after 1.5 s and says nothing about it.
  silentFast = await announcingApp(1.5, { announce: false, finDelayMs: 300 });
  silentNode = await announcingApp(1.5, { announce: false, finDelayMs: 300 });
  env = await startPlainProxy(TOKEN, [
    { app: 'one', hosts: ['one.dream'], endpoints: [{ host: '127.0.0.1', port: app1.port }] },
    { app: 'three', hosts: ['three.dream'], endpoints: [{ host: '127.0.0.1', port: app3.port }] },
    { app: 'silent-fast', hosts: ['silent-fast.dream'], endpoints: [{ host: '127.0.0.1', port: silentFast.port }] },
    { app: 'silent-node', hosts: ['silent-node.dream'], endpoints: [{ host: '127.0.0.1', port: silentNode.port }] },
  ]);
});
afterAll(async () => {
  await env?.close();
  await app1?.close();
  await app3?.close();
  await silentFast?.close();
  await silentNode?.close();
});

// A new client connection per request: one that a chunked upload handed to node:http stays there,
// and would carry the fast-path cases' requests too.
const post = (host: string, chunked = false) => request(env.proxy.port, host, '/form', {
  agent: new http.Agent({ keepAlive: false }), method: 'POST', body: 'name=a&v=1', headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-type': 'application/x-www-form-urlencoded' },
});

describe('upstream keep-alive timeouts', () => {
  // Fast path (Content-Length) and node:http + undici (a chunked upload is handed off).
  for (const chunked of [false, true]) {
    it(`never reuses a connection past what the app announced (${chunked ? 'node:http path' : 'fast path'})`, async () => {
      const before = { ...app1.stats };
      const statuses: number[] = [];
      // Each POST after more than 1 s of idleness: the app resets a connection it would have closed.
      for (let i = 0; i < 3; i++) {
        statuses.push((await post('one.dream', chunked)).status);
        await sleep(1100);
      }
      expect(statuses).toEqual([200, 200, 200]);
      expect(app1.stats.resets - before.resets).toBe(0);
    }, 15_000);
  }

  it('still reuses a connection well inside the announced timeout', async () => {
    const before = app3.stats.connections;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) { statuses.push((await post('three.dream')).status); await sleep(200); }
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(app3.stats.connections - before).toBe(1);
    expect(app3.stats.resets).toBe(0);
  });

  // Two such apps: what one path learns must not help the other's test (one proxy serves both).
  for (const chunked of [false, true]) {
    it(`learns the idle timeout of an app that announces none from its own closes, and stops reusing connections before it (${chunked ? 'node:http path' : 'fast path'})`, async () => {
      const app = chunked ? silentNode : silentFast;
      const host = chunked ? 'silent-node.dream' : 'silent-fast.dream';
      const before = { ...app.stats };
      const statuses: number[] = [];
      statuses.push((await post(host, chunked)).status);
      // The app closes the idle connection: its timer at 1.5 s, its FIN here 300 ms later.
      await sleep(2200);
      statuses.push((await post(host, chunked)).status);
      // Past the app's timer, before its FIN arrives: a POST on that connection would be reset.
      await sleep(1600);
      statuses.push((await post(host, chunked)).status);
      expect(statuses).toEqual([200, 200, 200]);
      expect(app.stats.resets - before.resets).toBe(0);
      // Well inside what was learned, connections are still reused.
      const conns = app.stats.connections;
      for (let i = 0; i < 3; i++) { expect((await post(host, chunked)).status).toBe(200); await sleep(100); }
      expect(app.stats.connections - conns).toBe(0);
    }, 15_000);
  }
});
