// The authoritative `.dream` DNS server: UDP and TCP on one port, packets encoded and decoded by
// dns-packet; what to answer is decided by answer.ts.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import type { Logger } from 'pino';
import { answer, encodeUdp, udpLimit, type Zone } from './answer.js';
import { formerrFor } from './undecodable.js';

/** Resolvers keep a few connections each; 100 serves many of them while a flood of held-open
 * connections stays far from the worker's file-descriptor limit (which the HTTP listeners share). */
export const MAX_TCP_CONNECTIONS = 100;
/** RFC 7766 6.2.3 asks for an idle timeout "in seconds" so idle clients cannot pin connections. */
export const TCP_IDLE_MS = 10_000;

export interface DnsServerOptions {
  host: string; port: number; zone: Zone; log?: Logger;
  /** Overrides for tests. */
  maxTcpConnections?: number; tcpIdleMs?: number;
  /** Sees each accepted TCP connection's server-side socket (tests observe its queued output). */
  onTcpConnection?: (sock: net.Socket) => void;
}

export class DreamDns {
  private constructor(private readonly udp: dgram.Socket, private readonly tcp: net.Server, private readonly conns: Set<net.Socket>, readonly port: number) {}

  static async start(o: DnsServerOptions): Promise<DreamDns> {
    // Port 0 (tests, ephemeral set-ups) lets the kernel pick a free UDP port, and the same number
    // may already be taken over TCP by anything else on the machine: pick again rather than fail.
    for (let attempt = 1; ; attempt++) {
      try { return await DreamDns.startOnce(o); } catch (e) {
        if (o.port !== 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw e;
      }
    }
  }

  private static async startOnce(o: DnsServerOptions): Promise<DreamDns> {
    const udp = dgram.createSocket(net.isIPv6(o.host) ? 'udp6' : 'udp4');
    // undefined: stay silent (not a query, not even a header, or a failure of ours). An undecodable
    // query gets FORMERR (undecodable.ts). Over UDP a response that does not fit the client's size
    // goes out truncated (TC) so it retries over TCP.
    const reply = (msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
      let query: DecodedPacket;
      try { query = dnsPacket.decode(msg); } catch (e) {
        o.log?.debug({ err: (e as Error).message }, 'dns: undecodable query');
        return formerrFor(msg);
      }
      try {
        const res = answer(o.zone, query);
        if (!res) return undefined;
        return transport === 'udp' ? encodeUdp(res, udpLimit(query)) : dnsPacket.encode(res);
      } catch (e) {
        o.log?.debug({ err: (e as Error).message }, 'dns: cannot answer');
        return undefined;
      }
    };
    udp.on('message', (msg, rinfo) => {
      const out = reply(msg, 'udp');
      // send() throws synchronously for a source port 0 (a spoofed packet); thrown here it would
      // be an uncaught exception and take the proxy worker down.
      if (out) try { udp.send(out, rinfo.port, rinfo.address); } catch (e) { o.log?.debug({ err: (e as Error).message }, 'dns: cannot reply'); }
    });
    udp.on('error', (e) => o.log?.warn({ err: e.message }, 'dns: udp error'));
    await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(o.port, o.host, () => { udp.off('error', reject); resolve(); }); });
    const port = udp.address().port;
    // TCP: two-byte length prefix per message (RFC 1035 4.2.2), several per connection.
    const conns = new Set<net.Socket>();
    // allowHalfOpen: a client may send its queries and then end its side; with node's default the
    // reply side would end too, losing answers still held back by backpressure.
    const tcp = net.createServer({ allowHalfOpen: true }, (sock) => {
      conns.add(sock);
      let buf = Buffer.alloc(0);
      let blocked = false;
      let ended = false;
      // Idle = no whole query for a while. Not sock.setTimeout: any byte resets that, so a client
      // trickling one byte at a time would hold its connection (and a slot under the cap) forever.
      // It also bounds how long a client that never reads its replies keeps a paused connection.
      const idle = setTimeout(() => sock.destroy(), o.tcpIdleMs ?? TCP_IDLE_MS);
      sock.on('close', () => { clearTimeout(idle); conns.delete(sock); });
      sock.on('error', () => sock.destroy());
      const pump = (): void => {
        // Stop at the first write node cannot pass on: a client that pipelines queries but never
        // reads would otherwise have every reply queued in memory. Reading pauses with it, so what
        // stays behind is at most one read's worth of queries, and the kernel holds back the rest.
        while (!blocked && !sock.destroyed && buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const out = reply(buf.subarray(2, 2 + len), 'tcp');
          buf = buf.subarray(2 + len);
          // Silence over TCP (a response, or less than a header) ends the connection: what follows
          // on it is not a resolver's query stream.
          if (!out) { sock.destroy(); return; }
          idle.refresh();
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          if (!sock.write(framed)) { blocked = true; sock.pause(); }
        }
        // A trailing partial message after the client's end can never complete: drop it.
        if (ended && !blocked && !sock.destroyed) sock.end();
      };
      sock.on('drain', () => { blocked = false; pump(); if (!blocked) sock.resume(); });
      sock.on('end', () => { ended = true; pump(); });
      sock.on('data', (d) => {
        // No size cap on buf: pump() consumes every whole message unless blocked, and while blocked
        // reading is paused, so what stays is one read plus one partial message (< 2 + 65535 bytes).
        buf = Buffer.concat([buf, d]);
        pump();
      });
      o.onTcpConnection?.(sock);
    });
    // The TCP half may find the port taken: give the UDP half back rather than leak it bound.
    // Over the cap node closes the new connection at once ('drop'); those already open keep going.
    tcp.maxConnections = o.maxTcpConnections ?? MAX_TCP_CONNECTIONS;
    tcp.on('drop', (d) => o.log?.debug({ remote: d?.remoteAddress }, 'dns: tcp connection over the cap closed'));
    await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(port, o.host, () => { tcp.off('error', reject); resolve(); }); })
      .catch((e: unknown) => { udp.close(); throw e; });
    // accept() failures (EMFILE under a connection flood) arrive as 'error': unhandled, they would crash.
    tcp.on('error', (e) => o.log?.warn({ err: e.message }, 'dns: tcp error'));
    o.log?.info({ host: o.host, port }, 'dns: serving .dream');
    return new DreamDns(udp, tcp, conns, port);
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.udp.close(() => r()));
    // server.close() only stops accepting and waits for open connections to end, which an idle
    // resolver's would do only at the idle timeout: shutdown would stall for up to TCP_IDLE_MS.
    const closed = new Promise<void>((r) => this.tcp.close(() => r()));
    for (const sock of this.conns) sock.destroy();
    await closed;
  }
}
