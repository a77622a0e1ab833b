// Back-pressure on the fast path across pooled upstream connections: a client that reads slowly
// pauses the app's connection until it catches up, and only that one. What the app gets to send
// beyond what the client read sits in the proxy's memory, so it is what the test counts.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlainProxyFor } from './proxy-helpers.js';

const TOKEN = 'int_backpressure';
const MB = 1 << 20;
let edge: Awaited<ReturnType<typeof startPlainProxyFor>>;
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
  edge = await startPlainProxyFor(TOKEN, app);
});

afterAll(async () => {
  await edge?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: () => boolean, ms = 5000, why = 'timed out'): Promise<void> {
  for (const t0 = Date.now(); !what(); await sleep(20)) if (Date.now() - t0 > ms) throw new Error(why);
}

describe('a slow client on the fast path', () => {
  it('stops reading a client that pipelines requests the proxy answers itself and reads none of the answers; all are answered once it reads', async () => {
    // Before, the fast path answered every pipelined request at once, whether or not the client read
    // a byte: the answers piled up in the proxy's memory (measured: RSS 91 -> 600 MB in 8 s).
    // The proxy runs in this process: its warnings (a listener per unread answer) land here.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const a = net.connect(edge.proxy.port, '127.0.0.1');
    try {
      a.pause();
      a.on('error', () => {});
      await new Promise((r) => a.once('connect', r));
      const one = Buffer.from(`GET / HTTP/1.1\r\nHost: nobody.dream\r\nX-Pad: ${'p'.repeat(1000)}\r\n\r\n`);
      const batch = Buffer.concat(Array<Buffer>(256).fill(one));
      let written = 0;
      // Written as fast as the socket takes it, for 3 s or 256 MB.
      for (const t0 = Date.now(); Date.now() - t0 < 3000 && written < 256 * MB;) {
        written += batch.length;
        if (!a.write(batch) && !(await Promise.race([new Promise((r) => a.once('drain', () => r(true))), sleep(500).then(() => false)]))) break;
      }
      // What the kernel took: the proxy read it, or its socket holds it. Loopback buffers grow to
      // tcp_rmem's and tcp_wmem's maximum, 32 + 4 MB on this machine; the old code took all 256.
      const taken = written - a.writableLength;
      expect(taken, 'the proxy kept reading a client that read nothing').toBeLessThan(64 * MB);
      // The client reads now: every request it wrote is answered, in order.
      const requests = written / one.length;
      let text = '';
      let answers = 0;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${answers} of ${requests} answers`)), 30_000);
        a.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          const parts = text.split('HTTP/1.1 404 ');
          answers += parts.length - 1;
          text = parts[parts.length - 1]!;
          if (answers >= requests) { clearTimeout(t); resolve(); }
        });
        a.resume();
      });
      expect(answers).toBe(requests);
      // One wait for the client to read, not a 'drain' listener per pipelined request answered.
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      a.destroy();
    }
  }, 60_000);

  it('keeps back-pressure on a pooled upstream connection after the client that used it before catches up', async () => {
    // Client A pipelines small requests to the app and reads nothing. Once what the sockets between
    // them hold is full, the answer to the request in flight no longer fits: that exchange ends with
    // A backed up, its upstream connection goes back to the pool, and A's next request waits for
    // A to read (so the app stops getting A's requests).
    const a = net.connect(edge.proxy.port, '127.0.0.1');
    const b = new net.Socket();
    try {
      a.pause();
      a.on('error', () => {});
      a.write('GET /a HTTP/1.1\r\nHost: up.dream\r\n\r\n'.repeat(40_000));
      // Backed up: no new request of A's reaches the app for 300 ms.
      let seen = -1;
      let since = Date.now();
      await until(() => { if (requests.length !== seen) { seen = requests.length; since = Date.now(); } return seen > 0 && Date.now() - since > 300; }, 20_000, 'A never stopped being answered');
      expect(requests.length, 'A is backed up before its 40 000 requests are answered').toBeLessThan(40_000);
      const lastOfA = requests[requests.length - 1]!;
      await sleep(200);
      // Client B takes that connection and does not read its 64 MB: the proxy pauses the app.
      b.connect(edge.proxy.port, '127.0.0.1');
      b.pause();
      b.on('error', () => {});
      b.write('GET /big HTTP/1.1\r\nHost: up.dream\r\n\r\n');
      await until(() => requests.some((r) => r.path === '/big'));
      const big = requests.find((r) => r.path === '/big')!;
      expect(big.peerPort, 'B went out on the connection A used last').toBe(lastOfA.peerPort);
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
