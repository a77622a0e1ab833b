// The `.dream` DNS server's sockets when the kernel fails them: node emits a failed accept as the TCP
// server's 'error' and a failed receive as the UDP socket's; an error that repeats (ENOBUFS under
// memory pressure, a flood) was one warn line each, with no code. Now a catalogued code and at most
// one warning a minute (ACCEPT_FAILED for TCP as on the HTTP listeners, DNS_UDP_FAILED for UDP),
// and the server keeps answering. The kernel cannot be made to fail here, so the errors are emitted
// on the server's sockets as node's net.js and dgram.js do.
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Zone } from './answer.js';
import { DreamDns } from './server.js';

const zone: Zone = { edge: ['127.0.0.1'], serves: (h) => h === 'hello.dream', servesBelow: () => false, txt: () => [] };
const lines: Array<Record<string, unknown>> = [];
const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
let server: DreamDns | undefined;
afterEach(async () => { await server?.close(); server = undefined; lines.length = 0; });

const errnoError = (code: 'ENOBUFS' | 'ENOMEM', syscall: string) =>
  Object.assign(new Error(`${syscall} ${code}`), { errno: -os.constants.errno[code], code, syscall });

function askUdp(port: number): Promise<DecodedPacket> {
  const c = dgram.createSocket('udp4');
  return new Promise<DecodedPacket>((resolve, reject) => {
    c.on('message', (m) => resolve(dnsPacket.decode(m))).on('error', reject);
    c.send(dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'hello.dream', type: 'A', class: 'IN' }] }), port, '127.0.0.1');
  }).finally(() => c.close());
}

function askTcp(port: number): Promise<DecodedPacket> {
  const m = dnsPacket.encode({ type: 'query', id: 8, questions: [{ name: 'hello.dream', type: 'A', class: 'IN' }] });
  const framed = Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const c = net.connect(port, '127.0.0.1', () => c.write(framed)).on('error', reject);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { c.destroy(); resolve(dnsPacket.decode(buf.subarray(2))); }
    });
  });
}

const warnings = () => lines.filter((l) => l.level === 40);

describe('.dream DNS socket errors', () => {
  it('100 failed accepts on the TCP listener: one ACCEPT_FAILED warning, and TCP queries still answered', async () => {
    server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone, log });
    // Spread over event-loop turns, as failures that leave the server time to serve between them.
    for (let i = 0; i < 100; i++) { server.tcp.emit('error', errnoError('ENOBUFS', 'accept')); if (i % 10 === 0) await new Promise((r) => setImmediate(r)); }
    expect(warnings()).toMatchObject([{ code: 'ACCEPT_FAILED', listener: 'DNS TCP', errno: 'ENOBUFS', failed: 1 }]);
    expect((await askTcp(server.port)).answers).toMatchObject([{ name: 'hello.dream', type: 'A', data: '127.0.0.1' }]);
  });

  it('100 failed receives on the UDP socket: one DNS_UDP_FAILED warning, and UDP queries still answered', async () => {
    server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone, log });
    for (let i = 0; i < 100; i++) server.udp.emit('error', errnoError('ENOMEM', 'recvmsg'));
    expect(warnings()).toMatchObject([{ code: 'DNS_UDP_FAILED', errno: 'ENOMEM', syscall: 'recvmsg', failed: 1 }]);
    expect(String(warnings()[0]!.msg)).toContain('short of memory');
    expect((await askUdp(server.port)).answers).toMatchObject([{ name: 'hello.dream', type: 'A', data: '127.0.0.1' }]);
  });
});
