// The `.dream` DNS over TCP under abuse: a cap on concurrent connections, an idle timeout and
// backpressure on replies, so held-open connections and clients that never read cannot exhaust the
// worker; clients that keep asking are unaffected. And close() does not wait for any of them.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DreamDns, MAX_TCP_CONNECTIONS } from './server.js';
import type { Zone } from './answer.js';

// A ~4 KB TXT answer to a ~45-byte query: a client that never reads piles up replies fast.
const BIG = '_acme-challenge.big.dream';
const bigTxt = Array.from({ length: 16 }, (_, i) => `${i}`.padEnd(255, 'x'));
const zone: Zone = { edge: ['127.0.0.1'], serves: (h) => h === 'hello.dream', servesBelow: () => false, txt: (n) => (n === BIG ? bigTxt : []) };
type Reply = DecodedPacket & { rcode: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const framed = (id: number, name = 'hello.dream', type: 'A' | 'TXT' = 'A'): Buffer => {
  const m = dnsPacket.encode({ type: 'query', id, questions: [{ name, type, class: 'IN' }] });
  const f = Buffer.alloc(2 + m.length);
  f.writeUInt16BE(m.length);
  m.copy(f, 2);
  return f;
};

/** One TCP client: ask() sends a query and waits for its answer (undefined if the server closes first). */
function client(port: number) {
  const c = net.connect(port, '127.0.0.1');
  const opened = Date.now();
  let buf = Buffer.alloc(0);
  let next = 1;
  const waiting = new Map<number, (r?: Reply) => void>();
  const closed = new Promise<number>((resolve) => c.on('close', () => { for (const w of waiting.values()) w(); resolve(Date.now() - opened); }));
  c.on('error', () => {});
  c.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const r = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as Reply;
      buf = buf.subarray(2 + buf.readUInt16BE(0));
      waiting.get(r.id ?? 0)?.(r);
    }
  });
  return {
    socket: c,
    /** Milliseconds from connect to close, once the connection is closed. */
    closed,
    isClosed: () => c.destroyed,
    ask(): Promise<Reply | undefined> {
      const id = next++;
      return new Promise((resolve) => { waiting.set(id, (r) => { waiting.delete(id); resolve(r); }); c.write(framed(id)); });
    },
  };
}
type Client = ReturnType<typeof client>;

/** Resolves with the close time, or 'open' if the connection is still open after `ms`. */
const closedWithin = (c: Client, ms: number) => Promise.race([c.closed, sleep(ms).then(() => 'open' as const)]);

let server: DreamDns | undefined;
let clients: Client[] = [];
afterEach(async () => {
  for (const c of clients) c.socket.destroy();
  clients = [];
  await server?.close();
  server = undefined;
});
const connect = (port: number) => { const c = client(port); clients.push(c); return c; };

describe('.dream DNS over TCP: connection cap and idle timeout', () => {
  it(`closes a connection over the cap (${MAX_TCP_CONNECTIONS}) unanswered; open ones keep answering; a freed slot is reusable`, async () => {
    server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone });
    const held = Array.from({ length: MAX_TCP_CONNECTIONS }, () => connect(server!.port));
    // An answer on each proves the server has accepted (and counts) every one of them.
    for (const r of await Promise.all(held.map((c) => c.ask()))) expect(r).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [{ data: '127.0.0.1' }] });

    const extra = connect(server.port);
    expect(await extra.ask()).toBeUndefined();
    expect(await closedWithin(extra, 2000)).not.toBe('open');

    expect(await held[0].ask()).toMatchObject({ rcode: 'NOERROR', answers: [{ data: '127.0.0.1' }] });
    held[1].socket.end();
    await held[1].closed;
    // The server learns of the close a moment after the client does: retry briefly.
    let again: Reply | undefined;
    for (let i = 0; i < 20 && !again; i++) again = await connect(server.port).ask();
    expect(again).toMatchObject({ rcode: 'NOERROR', answers: [{ data: '127.0.0.1' }] });
  });

  it('closes an idle connection after the timeout, and one that trickles a query byte by byte; an active client keeps its connection', async () => {
    server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone, tcpIdleMs: 300 });
    const idle = connect(server.port);
    const trickle = connect(server.port);
    const active = connect(server.port);
    const partial = framed(99);
    let sent = 0;
    const drip = setInterval(() => { if (!trickle.isClosed() && sent < partial.length - 1) trickle.socket.write(partial.subarray(sent, ++sent)); }, 50);
    // Asking every 100 ms for 1.2 s: four times the idle timeout, never idle for long.
    for (let i = 0; i < 12; i++) {
      expect(await active.ask()).toMatchObject({ rcode: 'NOERROR', answers: [{ data: '127.0.0.1' }] });
      await sleep(100);
    }
    clearInterval(drip);
    for (const c of [idle, trickle]) {
      const at = await closedWithin(c, 0);
      expect(at).not.toBe('open');
      expect(at).toBeGreaterThanOrEqual(250);
      expect(at).toBeLessThan(1000);
    }
    expect(active.isClosed()).toBe(false);
    // Once it falls silent, the active client is closed too.
    expect(await closedWithin(active, 2000)).not.toBe('open');
  });
});

describe('.dream DNS over TCP: backpressure and shutdown', () => {
  it('stops reading a client that pipelines queries but never reads, keeping its queued replies bounded; others are answered; all arrive once it reads', async () => {
    const queued = new Map<net.Socket, number>();
    // Registered after the server's own 'data' handler, so it sees what that handler left queued.
    const onTcpConnection = (s: net.Socket) => { queued.set(s, 0); s.on('data', () => queued.set(s, Math.max(queued.get(s)!, s.writableLength))); };
    server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone, onTcpConnection });
    const N = 4000;
    // ~17 MB of replies: far beyond what loopback's kernel buffers (a few MB) absorb.
    const greedy = net.connect(server.port, '127.0.0.1');
    greedy.on('error', () => {});
    try {
      // No 'data' listener: node reads a little into the socket's buffer, then the client stops reading.
      // end() after the queries: answers still owed must survive the client's half-close.
      greedy.end(Buffer.concat(Array.from({ length: N }, (_, i) => framed(i, BIG, 'TXT'))));
      let srv: net.Socket | undefined;
      for (let i = 0; i < 100 && !srv?.isPaused() && (queued.get(srv!) ?? 0) < 1e6; i++) { await sleep(20); srv ??= [...queued.keys()][0]; }
      await sleep(100);
      expect(srv).toBeDefined();
      expect(queued.get(srv!)).toBeLessThan(256 * 1024);
      expect(srv!.isPaused()).toBe(true);

      expect(await connect(server.port).ask()).toMatchObject({ rcode: 'NOERROR', answers: [{ data: '127.0.0.1' }] });

      let buf = Buffer.alloc(0);
      let replies = 0;
      const ended = new Promise<void>((r) => greedy.on('end', () => r()));
      greedy.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { buf = buf.subarray(2 + buf.readUInt16BE(0)); replies++; }
      });
      await ended;
      expect(replies).toBe(N);
    } finally { greedy.destroy(); }
  });

  it('close() destroys open connections instead of waiting for their idle timeout', async () => {
    server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone });
    const idle = connect(server.port);
    // Answered: the server has accepted it.
    expect(await idle.ask()).toMatchObject({ rcode: 'NOERROR' });
    const started = Date.now();
    const took = await Promise.race([server.close().then(() => Date.now() - started), sleep(2000).then(() => 'still waiting' as const)]);
    server = undefined;
    expect(took).not.toBe('still waiting');
    expect(took).toBeLessThan(500);
    expect(await closedWithin(idle, 500)).not.toBe('open');
  });
});

describe('.dream DNS on port 0', () => {
  it('picks another port when the one the kernel gave the UDP half is taken over TCP (seen as a flake in CI); a set port still fails', async () => {
    // Something else on the machine holds TCP port P; the first UDP bind is steered onto P, as the
    // kernel may pick it for port 0 (UDP and TCP ports are separate spaces).
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const P = (taken.address() as net.AddressInfo).port;
    const bind = dgram.Socket.prototype.bind;
    const steer = vi.spyOn(dgram.Socket.prototype, 'bind').mockImplementationOnce(function (this: dgram.Socket, ...args: unknown[]) {
      return (bind as (...a: unknown[]) => dgram.Socket).call(this, P, ...args.slice(1));
    });
    try {
      server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone });
      expect(steer).toHaveBeenCalled();
      expect(server.port).not.toBe(P);
      expect(await client(server.port).ask()).toMatchObject({ rcode: 'NOERROR', answers: [{ data: '127.0.0.1' }] });
      await expect(DreamDns.start({ host: '127.0.0.1', port: P, zone })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      steer.mockRestore();
      await new Promise((r) => taken.close(r));
    }
  });
});
