// The `.dream` DNS over TCP under abuse: a cap on concurrent connections and an idle timeout, so
// held-open connections cannot exhaust the worker; clients that keep asking are unaffected.
import net from 'node:net';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { DreamDns, MAX_TCP_CONNECTIONS } from './server.js';
import type { Zone } from './answer.js';

const zone: Zone = { edge: ['127.0.0.1'], serves: (h) => h === 'hello.dream', servesBelow: () => false, txt: () => [] };
type Reply = DecodedPacket & { rcode: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const framed = (id: number): Buffer => {
  const m = dnsPacket.encode({ type: 'query', id, questions: [{ name: 'hello.dream', type: 'A', class: 'IN' }] });
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
