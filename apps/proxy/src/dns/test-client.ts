// Shared by the dns tests that send hand-built (often malformed) messages: one datagram, or framed
// messages on one TCP connection, to a real server on 127.0.0.1, and the raw replies; and that
// server for `hello.dream` alone, started around a test file.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { afterAll, beforeAll } from 'vitest';
import type { Zone } from './answer.js';
import { DreamDns } from './server.js';

export type Reply = DecodedPacket & { rcode: string; opcode: string; flag_cd: boolean };

export const decode = (m: Buffer | undefined) => dnsPacket.decode(m!) as Reply;

/**
 * A server for `hello.dream` alone (A 127.0.0.1), started before the calling file's tests and
 * closed after them; `udp` and `tcp` send it raw messages (udpRaw, tcpRaw).
 */
export function helloServer(): { udp: (msg: Buffer, wait?: number) => Promise<Buffer | undefined>; tcp: (msgs: Buffer[], wait?: number) => ReturnType<typeof tcpRaw> } {
  const zone: Zone = { edge: ['127.0.0.1'], serves: (h) => h === 'hello.dream', servesBelow: () => false, txt: () => [] };
  let server: DreamDns;
  beforeAll(async () => { server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone }); });
  afterAll(async () => { await server.close(); });
  return { udp: (msg, wait) => udpRaw(server.port, msg, wait), tcp: (msgs, wait) => tcpRaw(server.port, msgs, wait) };
}

/** One datagram from a fresh socket: the raw reply, or undefined after `wait` ms of silence. */
export function udpRaw(port: number, msg: Buffer, wait = 2000): Promise<Buffer | undefined> {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    const done = (m?: Buffer) => { clearTimeout(t); sock.close(); resolve(m); };
    const t = setTimeout(done, wait);
    sock.on('message', (m) => done(m));
    sock.send(msg, port, '127.0.0.1');
  });
}

/** Messages written at once on one TCP connection; the raw replies, and whether the server closed it. */
export function tcpRaw(port: number, msgs: Buffer[], wait = 2000): Promise<{ replies: Buffer[]; closed: boolean }> {
  const c = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  const replies: Buffer[] = [];
  return new Promise((resolve) => {
    const done = (closed: boolean) => { clearTimeout(t); c.destroy(); resolve({ replies, closed }); };
    const t = setTimeout(() => done(false), wait);
    c.on('error', () => {});
    c.on('close', () => done(true));
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length === msgs.length) done(false);
    });
    c.write(Buffer.concat(msgs.map((m) => { const f = Buffer.alloc(2 + m.length); f.writeUInt16BE(m.length); m.copy(f, 2); return f; })));
  });
}
