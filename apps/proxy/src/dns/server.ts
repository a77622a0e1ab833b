// The authoritative `.dream` DNS server: UDP and TCP on one port, packets encoded and decoded by
// dns-packet; what to answer is decided by answer.ts.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import { answer, type Zone } from './answer.js';

export interface DnsServerOptions { host: string; port: number; zone: Zone; log?: Logger }

export class DreamDns {
  private constructor(private readonly udp: dgram.Socket, private readonly tcp: net.Server, readonly port: number) {}

  static async start(o: DnsServerOptions): Promise<DreamDns> {
    const udp = dgram.createSocket(net.isIPv6(o.host) ? 'udp6' : 'udp4');
    const reply = (msg: Buffer): Buffer | undefined => {
      try { return dnsPacket.encode(answer(o.zone, dnsPacket.decode(msg))); } catch (e) {
        o.log?.debug({ err: (e as Error).message }, 'dns: undecodable query');
        return undefined;
      }
    };
    udp.on('message', (msg, rinfo) => {
      const out = reply(msg);
      if (out) udp.send(out, rinfo.port, rinfo.address);
    });
    udp.on('error', (e) => o.log?.warn({ err: e.message }, 'dns: udp error'));
    await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(o.port, o.host, () => { udp.off('error', reject); resolve(); }); });
    const port = udp.address().port;
    // TCP: two-byte length prefix per message (RFC 1035 4.2.2), several per connection.
    const tcp = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.setTimeout(10_000, () => sock.destroy());
      sock.on('error', () => sock.destroy());
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length > 65_537) return sock.destroy();
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const out = reply(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
          if (!out) return sock.destroy();
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          sock.write(framed);
        }
      });
    });
    await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(port, o.host, () => { tcp.off('error', reject); resolve(); }); });
    o.log?.info({ host: o.host, port }, 'dns: serving .dream');
    return new DreamDns(udp, tcp, port);
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.udp.close(() => r()));
    await new Promise<void>((r) => this.tcp.close(() => r()));
  }
}
