// WebSocket (and other HTTP/1.1 Upgrade) pass-through, over plain HTTP and over TLS: what the
// client sees of the app's handshake answer (101 or not), bytes sent with the request, half-close,
// the last bytes before the app closes, and upgrade requests that carry a body.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { AccessEntry } from '../../apps/proxy/src/access-log.js';
import { deadPort, startTlsProxy } from './proxy-helpers.js';

const TOKEN = 'int_test-token';
let env: Awaited<ReturnType<typeof startTlsProxy>>;
let app: http.Server;
const upgradesSeen: string[] = [];
/** What /fin-first received after it half-closed, once its client ended too. */
const lateData: string[] = [];
const BURST = 8 * 1024 * 1024;
/** /deny-stream sockets still open. */
const denyStreams = new Set<net.Socket>();
const denyChunked = new Set<net.Socket>();
const access: AccessEntry[] = [];

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (set) => (set.has('chat.v2') ? 'chat.v2' : false) });
  wss.on('headers', (headers) => headers.push('Set-Cookie: sid=abc; HttpOnly'));
  wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`echo:${String(m)}:${req.headers['sec-websocket-extensions'] ?? '-'}`)));
  app = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`plain ${req.method} ${req.url}`));
  app.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => {});
    upgradesSeen.push(req.url ?? '');
    const p = req.url ?? '';
    if (p === '/ws') return wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    if (p === '/deny') return void socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nSet-Cookie: why=denied\r\n\r\nnope');
    if (p === '/deny-stream') {
      denyStreams.add(socket);
      socket.once('close', () => denyStreams.delete(socket));
      const tick = setInterval(() => socket.write('5\r\nchunk\r\n'), 20);
      socket.once('close', () => clearInterval(tick));
      return void socket.write('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n');
    }
    // Chunked and kept alive: the proxy must end the client's response after the last chunk.
    if (p === '/deny-chunked') {
      denyChunked.add(socket);
      socket.once('close', () => denyChunked.delete(socket));
      socket.once('end', () => socket.end());
    }
    if (p === '/deny-chunked') return void socket.write('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    if (p === '/echo') {
      if (head.length) socket.write(head);
      socket.on('data', (d) => socket.write(d));
      socket.on('end', () => socket.end());
    } else if (p === '/fin-first') {
      let got = '';
      socket.end('bye');
      socket.on('data', (d) => { got += String(d); });
      socket.on('end', () => lateData.push(got));
    } else if (p === '/burst') {
      socket.write(Buffer.alloc(BURST, 120));
      socket.end('END');
    }
  });
  const appPort = await new Promise<number>((r) => app.listen(0, '127.0.0.1', () => r((app.address() as AddressInfo).port)));
  env = await startTlsProxy(TOKEN, [
    { app: 'wsapp', hosts: ['ws.dream'], endpoints: [{ host: '127.0.0.1', port: appPort }] },
    { app: 'down', hosts: ['down.dream'], endpoints: [{ host: '127.0.0.1', port: await deadPort() }] },
  ], ['ws.dream', 'down.dream'], { accessLog: (e) => access.push(e) });
});

afterAll(async () => {
  await env?.close();
  app?.closeAllConnections();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
});

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const upgradeHead = (path: string, host = 'ws.dream', extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n${extra}\r\n`;

type Proto = 'plain' | 'tls';
function dial(proto: Proto, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s: net.Socket = proto === 'plain'
      ? net.connect({ host: '127.0.0.1', port: env.proxy.port, allowHalfOpen }, () => resolve(s))
      : tls.connect({ host: '127.0.0.1', port: env.proxy.httpsPort!, servername: 'ws.dream', ca: env.ca, ALPNProtocols: ['http/1.1'], allowHalfOpen } as tls.ConnectionOptions, () => resolve(s));
    s.once('error', reject);
  });
}
/** Everything the proxy sends until it ends the connection (or `done` says enough). */
function readAll(s: net.Socket, done: (text: string) => boolean = () => false): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = () => { s.off('data', onData); resolve(text); };
    const onData = (d: Buffer) => { text += d.toString('latin1'); if (done(text)) finish(); };
    s.on('data', onData);
    s.once('end', finish);
    s.once('close', finish);
    s.once('error', reject);
  });
}
async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) { if (await cond()) return; await new Promise((r) => setTimeout(r, 25)); }
  throw new Error(`timed out waiting for ${what}`);
}
const connections = (s: net.Server) => new Promise<number>((r) => s.getConnections((_e, n) => r(n)));
const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

describe.each<Proto>(['plain', 'tls'])('WebSocket over %s HTTP/1.1', (proto) => {
  const url = (p: string) => (proto === 'plain' ? `ws://127.0.0.1:${env.proxy.port}${p}` : `wss://127.0.0.1:${env.proxy.httpsPort}${p}`);
  const wsOpts = { headers: { host: 'ws.dream' }, servername: 'ws.dream', ca: env?.ca } as WebSocket.ClientOptions;

  it('passes Sec-WebSocket-* both ways and the app\'s 101 fields (chosen protocol, Set-Cookie)', async () => {
    const ws = new WebSocket(url('/ws'), ['chat.v1', 'chat.v2'], { ...wsOpts, ca: env.ca, perMessageDeflate: true });
    let upgradeHeaders: http.IncomingHttpHeaders = {};
    ws.on('upgrade', (r) => { upgradeHeaders = r.headers; });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    expect(ws.protocol).toBe('chat.v2');
    expect(upgradeHeaders['set-cookie']).toEqual(['sid=abc; HttpOnly']);
    ws.send('hi');
    const got = await new Promise<string>((r) => ws.once('message', (m) => r(String(m))));
    expect(got).toMatch(/^echo:hi:permessage-deflate/);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.close(4001);
    expect(await closed).toBe(4001);
  });

  it('relays an app\'s refusal (403 with a body) and ends the response, even when chunked and kept alive', async () => {
    for (const p of ['/deny', '/deny-chunked']) {
      const s = await dial(proto);
      s.write(upgradeHead(p));
      const text = await readAll(s);
      expect(statusOf(text), p).toBe(403);
      expect(text.endsWith('\r\n\r\nnope'), p).toBe(true);
    }
    // Neither the client's connection nor the app's (kept alive by /deny-chunked) stays open.
    const server = env.proxy.servers[proto === 'plain' ? 0 : 1]!;
    await until(async () => (await connections(server)) === 0 && denyChunked.size === 0, 'the connections to close');
  });

  it('writes each upgrade to the access log once it ends: 101 with the tunnel\'s bytes and time, a refusal and the proxy\'s own page with their status', async () => {
    const entries = (id: string) => access.filter((e) => e.requestId === id);
    const ws = new WebSocket(url('/ws'), { ...wsOpts, ca: env.ca, headers: { host: 'ws.dream', 'x-request-id': `ws-log-${proto}-101` } });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send('x'.repeat(1000));
    await new Promise((r) => ws.once('message', r));
    await new Promise((r) => setTimeout(r, 150));
    expect(entries(`ws-log-${proto}-101`)).toEqual([]); // still open: logged when it ends, as nginx does
    ws.close();
    await until(async () => entries(`ws-log-${proto}-101`).length > 0, 'the 101 entry');
    expect(entries(`ws-log-${proto}-101`)).toEqual([expect.objectContaining({
      method: 'GET', host: 'ws.dream', path: '/ws', status: 101, upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/), proto: '1.1', client: '127.0.0.1',
    })]);
    const [open] = entries(`ws-log-${proto}-101`);
    expect(open!.bytes).toBeGreaterThan(1000); // the 101 head and the echoed message
    expect(open!.ms).toBeGreaterThanOrEqual(150);

    for (const [path, host, status, upstream] of [['/deny', 'ws.dream', 403, /^127\.0\.0\.1:\d+$/], ['/ws', 'nobody.dream', 404, /^-$/]] as const) {
      const s = await dial(proto);
      s.write(upgradeHead(path, host, `X-Request-Id: ws-log-${proto}-${status}\r\n`));
      expect(statusOf(await readAll(s))).toBe(status);
      s.destroy();
      await until(async () => entries(`ws-log-${proto}-${status}`).length > 0, `the ${status} entry`);
      expect(entries(`ws-log-${proto}-${status}`)).toEqual([expect.objectContaining({ path, host, status, upstream: expect.stringMatching(upstream) })]);
    }
  });

  it('answers 502 with the proxy\'s page when the app is down', async () => {
    const s = await dial(proto);
    s.write(upgradeHead('/ws', 'down.dream'));
    const text = await readAll(s);
    expect(statusOf(text)).toBe(502);
    expect(text).toMatch(/x-dream-error: UPSTREAM_UNAVAILABLE/i);
    await until(async () => (await connections(env.proxy.servers[proto === 'plain' ? 0 : 1]!)) === 0, 'the connection to close');
  });

  it('delivers bytes the client sent in the same packet as the upgrade request', async () => {
    const s = await dial(proto);
    s.write(upgradeHead('/echo') + 'early-bytes');
    expect(await readAll(s, (t) => t.includes('early-bytes'))).toMatch(/^HTTP\/1\.1 101[^]*\r\n\r\nearly-bytes$/);
    s.destroy();
  });

  if (proto === 'plain') {
    // TLS sockets in node do not half-close (a FIN ends both directions), so only plain TCP.
    it('propagates a client half-close: the app sees the end and its answer still arrives', async () => {
      const s = await dial(proto, true);
      s.write(upgradeHead('/echo'));
      await readAll(s, (t) => t.includes('\r\n\r\n'));
      s.end('last-words');
      expect(await readAll(s)).toBe('last-words');
    });

    it('propagates an app half-close: the client still gets to send', async () => {
      const s = await dial(proto, true);
      s.write(upgradeHead('/fin-first'));
      const text = await readAll(s);
      expect(text.endsWith('\r\n\r\nbye')).toBe(true);
      const n = lateData.length;
      s.end('late');
      for (let i = 0; i < 400 && lateData.length === n; i++) await new Promise((r) => setTimeout(r, 25));
      expect(lateData.at(-1)).toBe('late');
    });
  }

  it('delivers everything the app wrote before closing, to a client that reads slowly', async () => {
    const s = await dial(proto, true);
    s.write(upgradeHead('/burst'));
    // Read a chunk at a time with a pause after each, so the proxy's writes to the client back up
    // and its last ones are still queued when the app's FIN arrives.
    let text = '';
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => { text += d.toString('latin1'); s.pause(); setTimeout(() => s.resume(), 1); });
      s.once('end', () => resolve());
    });
    s.end();
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body.length).toBe(BURST + 3);
    expect(body.endsWith('END')).toBe(true);
  });

  it('stops relaying a refusal the app streams without end once the client is gone', async () => {
    const s = await dial(proto);
    s.write(upgradeHead('/deny-stream'));
    await readAll(s, (t) => t.includes('\r\n\r\n'));
    s.destroy();
    for (let i = 0; i < 400 && denyStreams.size > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(denyStreams.size).toBe(0);
  });

  it('answers a client still sending after its head in full, then reads it to its close (lingering close)', async () => {
    const server = env.proxy.servers[proto === 'plain' ? 0 : 1]!;
    const cases: [string, number, string | undefined][] = [
      // A body the proxy refuses and never forwards.
      [upgradeHead('/echo', 'ws.dream', 'Content-Length: 100000000\r\n'), 400, 'BAD_REQUEST'],
      // Frames sent before the handshake is answered: to an app that is down, a host with no app,
      // an app that refuses the upgrade.
      [upgradeHead('/ws', 'down.dream'), 502, 'UPSTREAM_UNAVAILABLE'],
      [upgradeHead('/ws', 'nowhere.dream'), 404, 'NO_ROUTE'],
      [upgradeHead('/deny'), 403, undefined],
    ];
    for (const [head, status, code] of cases) {
      const what = code ?? String(status);
      const s = await dial(proto);
      let failed: Error | undefined;
      s.on('error', (err) => { failed = err; });
      // Keeps sending, as an uploading client would, until the proxy's answer has ended.
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => { while (!s.destroyed && !s.readableEnded && s.write(chunk)); };
      s.on('drain', pump);
      s.write(head);
      pump();
      let text = '';
      await new Promise<void>((resolve) => {
        s.on('data', (d: Buffer) => { text += d.toString('latin1'); });
        s.once('end', () => resolve());
        s.once('close', () => resolve());
      });
      const length = Number(/\r\ncontent-length: (\d+)\r\n/i.exec(text)?.[1] ?? -1);
      expect([statusOf(text), failed?.message], what).toEqual([status, undefined]);
      if (code) expect(text, what).toMatch(new RegExp(`x-dream-error: ${code}`, 'i'));
      expect(Buffer.byteLength(text.slice(text.indexOf('\r\n\r\n') + 4), 'latin1'), what).toBe(length);
      // The proxy read on after its answer, so it sees the client close: nothing left open (an
      // unread socket never saw the FIN and stayed until the proxy stopped, then was reset).
      s.end();
      await until(async () => (await connections(server)) === 0, `the proxy to close its side (${what})`);
    }
  });

  it('refuses an upgrade request that carries a body or Transfer-Encoding, and the app sees no upgrade', async () => {
    for (const extra of ['Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n']) {
      const before = upgradesSeen.length;
      const s = await dial(proto);
      s.write(upgradeHead('/echo', 'ws.dream', extra) + (extra.startsWith('Content') ? 'hello' : '5\r\nhello\r\n0\r\n\r\n'));
      const text = await readAll(s);
      expect(statusOf(text), extra).toBe(400);
      expect(upgradesSeen.length).toBe(before);
      s.destroy();
    }
  });
});
