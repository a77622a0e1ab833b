// The authoritative `.dream` DNS server: UDP and TCP on one port, packets encoded and decoded by
// dns-packet; what to answer is decided by answer.ts.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import { answer, encodeUdp, udpLimit, type Zone } from './answer.js';

/** Resolvers keep a few connections each; 100 serves many of them while a flood of held-open
 * connections stays far from the worker's file-descriptor limit (which the HTTP listeners share). */
export const MAX_TCP_CONNECTIONS = 100;
/** RFC 7766 6.2.3 asks for an idle timeout "in seconds" so idle clients cannot pin connections. */
export const TCP_IDLE_MS = 10_000;

export interface DnsServerOptions {
  host: string; port: number; zone: Zone; log?: Logger;
  /** Overrides for tests. */
  maxTcpConnections?: number; tcpIdleMs?: number;
}

export class DreamDns {
  private constructor(private readonly udp: dgram.Socket, private readonly tcp: net.Server, readonly port: number) {}

  static async start(o: DnsServerOptions): Promise<DreamDns> {
    const udp = dgram.createSocket(net.isIPv6(o.host) ? 'udp6' : 'udp4');
    // undefined: stay silent (undecodable, or not a query). Over UDP a response that does not fit
    // the client's size goes out truncated (TC) so it retries over TCP.
    const reply = (msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
      try {
        const query = dnsPacket.decode(msg);
        const res = answer(o.zone, query);
        if (!res) return undefined;
        return transport === 'udp' ? encodeUdp(res, udpLimit(query)) : dnsPacket.encode(res);
      } catch (e) {
        o.log?.debug({ err: (e as Error).message }, 'dns: undecodable query');
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
    const tcp = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      // Idle = no whole query for a while. Not sock.setTimeout: any byte resets that, so a client
      // trickling one byte at a time would hold its connection (and a slot under the cap) forever.
      const idle = setTimeout(() => sock.destroy(), o.tcpIdleMs ?? TCP_IDLE_MS);
      sock.on('close', () => clearTimeout(idle));
      sock.on('error', () => sock.destroy());
      sock.on('data', (d) => {
        // No size cap on buf: the loop below consumes every whole message, so what stays is one
        // partial message (< 2 + 65535 bytes); capping the raw buffer would cut off a pipelined burst.
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const out = reply(buf.subarray(2, 2 + len), 'tcp');
          buf = buf.subarray(2 + len);
          if (!out) return sock.destroy();
          idle.refresh();
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          sock.write(framed);
        }
      });
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
    return new DreamDns(udp, tcp, port);
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.udp.close(() => r()));
    await new Promise<void>((r) => this.tcp.close(() => r()));
  }
}
