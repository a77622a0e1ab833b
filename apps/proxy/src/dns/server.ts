// The authoritative `.dream` DNS server: UDP and TCP on one port, packets encoded and decoded by
// dns-packet; what to answer is decided by answer.ts. What the kernel refuses on either socket is
// an operator warning with a code, at most one a minute (ACCEPT_FAILED, DNS_UDP_FAILED).
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { pino, type Logger } from 'pino';
import { watchAcceptErrors } from '../accept-errors.js';
import { rareWarning } from '../rare-warning.js';
import { answer, encodeUdp, udpLimit, type Zone } from './answer.js';
import { optProblem } from './edns-check.js';
import { formerrFor, optFormerrFor } from './undecodable.js';

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
  /** `udp` and `tcp` are the listening sockets: tests emit on them what node emits for a kernel failure. */
  private constructor(readonly udp: dgram.Socket, readonly tcp: net.Server, private readonly conns: Set<net.Socket>, readonly port: number) {}

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
    const log = o.log ?? pino({ level: 'silent' });
    const udp = dgram.createSocket(net.isIPv6(o.host) ? 'udp6' : 'udp4');
    // undefined: stay silent (not a query, not even a header, or a failure of ours). An undecodable
    // query, or one with a malformed OPT record, gets FORMERR (undecodable.ts; with the question and
    // our OPT when only the OPT's options are malformed, edns-check.ts). Over UDP a response
    // that does not fit the client's size goes out truncated (TC) so it retries over TCP.
    const reply = (msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
      let query: DecodedPacket;
      try { query = dnsPacket.decode(msg); } catch (e) {
        log.debug({ err: (e as Error).message }, 'dns: undecodable query');
        // An OPT whose options are cut short can make dns-packet read on into the next record.
        const bad = optProblem(msg);
        return bad?.withOpt ? optFormerrFor(msg, bad) : formerrFor(msg);
      }
      // What dns-packet decodes without complaint in an OPT record (edns-check.ts); only a query
      // with records after its question is walked, so the plain ones pay nothing.
      const bad = query.additionals?.length || query.answers?.length || query.authorities?.length ? optProblem(msg) : undefined;
      if (bad) {
        log.debug({ err: bad.why }, 'dns: malformed OPT record');
        return bad.withOpt ? optFormerrFor(msg, bad) : formerrFor(msg);
      }
      try {
        const res = answer(o.zone, query);
        if (!res) return undefined;
        return transport === 'udp' ? encodeUdp(res, udpLimit(query)) : dnsPacket.encode(res);
      } catch (e) {
        log.debug({ err: (e as Error).message }, 'dns: cannot answer');
        return undefined;
      }
    };
    // A receive the kernel fails arrives as 'error' (recvmsg), a send it fails only in send()'s
    // callback (without one node drops it unseen): ENOBUFS/ENOMEM, EPERM from a firewall. Either
    // may repeat for every packet of a flood, so one warning a minute, not a line each.
    const udpFailed = rareWarning(log, 'DNS_UDP_FAILED', { socket: 'DNS UDP' }, 'dns: udp packets pass again');
    const onUdpError = (e: NodeJS.ErrnoException) => {
      const what = e.syscall === 'send' ? 'send a .dream DNS answer' : 'receive a .dream DNS query';
      udpFailed({ errno: e.code, syscall: e.syscall },
        `the kernel refused to ${what} over UDP (${e.code}): that query got no answer (resolvers ask again); the DNS server keeps serving. ENOBUFS/ENOMEM: the system is short of memory; EPERM: a firewall or security module refuses it`);
    };
    udp.on('message', (msg, rinfo) => {
      const out = reply(msg, 'udp');
      // send() throws synchronously for a source port 0 (a spoofed packet); thrown here it would
      // be an uncaught exception and take the proxy worker down.
      if (out) try { udp.send(out, rinfo.port, rinfo.address, (e) => { if (e) onUdpError(e); }); } catch (e) { log.debug({ err: (e as Error).message }, 'dns: cannot reply'); }
    });
    await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(o.port, o.host, () => { udp.off('error', reject); resolve(); }); });
    udp.on('error', onUdpError);
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
    tcp.on('drop', (d) => log.debug({ remote: d?.remoteAddress }, 'dns: tcp connection over the cap closed'));
    await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(port, o.host, () => { tcp.off('error', reject); resolve(); }); })
      .catch((e: unknown) => { udp.close(); throw e; });
    // accept() failures (ENOBUFS, EMFILE under a connection flood) arrive as 'error': unhandled, they
    // would crash; logged as the HTTP listeners' are (ACCEPT_FAILED, at most one a minute).
    watchAcceptErrors(tcp, 'DNS TCP', log);
    log.info({ host: o.host, port }, 'dns: serving .dream');
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
