// Back-pressure on the fast path across pooled upstream connections: a client that reads slowly
// pauses the app's connection until it catches up, and only that one. What the app gets to send
// beyond what the client read sits in the proxy's memory, so it is what the test counts.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlainProxy } from './proxy-helpers.js';

const TOKEN = 'int_backpressure';
const MB = 1 << 20;
let edge: Awaited<ReturnType<typeof startPlainProxy>>;
let app: http.Server;
/** Each request the app got: its path, the proxy's port on that connection, the body bytes it managed to write. */
const requests: { path: string; peerPort: number; sent: number }[] = [];

beforeAll(async () => {
  app = http.createServer((req, res) => {
    const r = { path: req.url ?? '', peerPort: req.socket.remotePort ?? 0, sent: 0 };
    requests.push(r);
    if (req.url !== '/big') { res.end('ok'); return; }
    // 64 MB as fast as the connection takes it.
    const chunk = Buffer.alloc(64 * 1024, 1);
    res.writeHead(200, { 'content-length': String(64 * MB) });
    const more = () => { while (r.sent < 64 * MB) { r.sent += chunk.length; if (!res.write(chunk)) return void res.once('drain', more); } res.end(); };
    more();
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  const port = (app.address() as AddressInfo).port;
  edge = await startPlainProxy(TOKEN, [{ app: 'up', hosts: ['up.dream'], endpoints: [{ host: '127.0.0.1', port }] }]);
});

afterAll(async () => {
  await edge?.close();
  app.closeAllConnections();
  await new Promise((r) => app.close(r));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: () => boolean, ms = 5000, why = 'timed out'): Promise<void> {
  for (const t0 = Date.now(); !what(); await sleep(20)) if (Date.now() - t0 > ms) throw new Error(why);
}

describe('a slow client on the fast path', () => {
  it('keeps back-pressure on a pooled upstream connection after the client that used it before catches up', async () => {
    // Client A does not read. The proxy's own 404s for 40 000 pipelined requests (8 MB) fill what
    // the sockets between them hold, so the app's tiny answer to A's last request completes while
    // A is still backed up; that upstream connection goes back to the pool. (This relies on the fast
    // path answering pipelined requests with its own pages while the client reads nothing, which is
    // itself unbounded: once that waits for the client, this needs another way to back A up.)
    const a = net.connect(edge.proxy.port, '127.0.0.1');
    const b = new net.Socket();
    try {
      a.pause();
      a.on('error', () => {});
      a.write('GET / HTTP/1.1\r\nHost: nobody.dream\r\n\r\n'.repeat(40_000) + 'GET /a HTTP/1.1\r\nHost: up.dream\r\n\r\n');
      await until(() => requests.some((r) => r.path === '/a'), 5000, 'A\'s last request never reached the app: the setup no longer backs A up');
      await sleep(200);
      // Client B takes that connection and does not read its 64 MB: the proxy pauses the app.
      b.connect(edge.proxy.port, '127.0.0.1');
      b.pause();
      b.on('error', () => {});
      b.write('GET /big HTTP/1.1\r\nHost: up.dream\r\n\r\n');
      await until(() => requests.some((r) => r.path === '/big'));
      const big = requests.find((r) => r.path === '/big')!;
      expect(big.peerPort, 'B went out on the connection A used').toBe(requests.find((r) => r.path === '/a')!.peerPort);
      await sleep(500);
      const stalledAt = big.sent;
      // A catches up. Before, its drain resumed the connection it had used (B's now): the app sent
      // all 64 MB into the proxy's memory while B read nothing.
      a.resume();
      await sleep(1000);
      // (What the sockets hold between the app and B is already in stalledAt: a few MB on loopback.)
      expect(big.sent - stalledAt).toBeLessThan(8 * MB);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});
