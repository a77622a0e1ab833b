// Real app replicas for the proxy suites: an echoing HTTP/WebSocket server, a port nothing listens
// on, and request framing for raw upstreams a test writes itself.
import http from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { closeServer, listen } from './servers.js';

/** An app replica: echoes who it is and what headers it got; /slow?ms=N waits; /ws echoes. */
export async function startUpstream(name: string) {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    received.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, url: req.url, method: req.method, headers: req.headers }));
    if (url.pathname === '/slow') { setTimeout(reply, Number(url.searchParams.get('ms') ?? '1000')); return; }
    if (url.pathname === '/big') {
      // N MiB in 64 KiB chunks, honouring backpressure, each chunk filled with its index.
      const chunks = Number(url.searchParams.get('mb') ?? '1') * 16;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let i = 0;
      const more = () => { while (i < chunks) { if (!res.write(Buffer.alloc(65536, i++ % 256))) return void res.once('drain', more); } res.end(); };
      more();
      return;
    }
    if (url.pathname === '/upload') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, bytes: n })));
      return;
    }
    reply();
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`${name}:${String(m)}:${req.headers['x-forwarded-for']}`)));
  const port = await listen(server);
  return { name, port, received, endpoint: { host: '127.0.0.1', port }, close: async () => { for (const c of wss.clients) c.terminate(); wss.close(); await closeServer(server); } };
}

/** A port nothing listens on (connections are refused). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await closeServer(s);
  return port;
}

/**
 * For a raw upstream written by a test: calls `onRequest(head, body)` for each request its socket
 * reads (the head up to the blank line, a body by Content-Length only). Return false to stop.
 */
export function eachRequest(s: Socket, onRequest: (head: string, body: Buffer) => boolean | void): void {
  let buf = Buffer.alloc(0);
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const cl = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + cl) return;
      const body = buf.subarray(end + 4, end + 4 + cl);
      buf = buf.subarray(end + 4 + cl);
      if (onRequest(head, body) === false) return;
    }
  });
}
