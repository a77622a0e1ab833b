// The `.dream` DNS as the resolvers in front of users ask it: the exact bytes unbound 1.17 (stub-zone,
// DNSSEC validation, use-caps-for-id) and dig 9.18 sent, captured on the wire, replayed over real
// UDP and TCP sockets.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DreamDns } from './server.js';
import type { Zone } from './answer.js';

const zone: Zone = {
  edge: ['127.0.0.1'],
  serves: (h) => h === 'hello.dream',
  servesBelow: () => false,
  txt: (n) => (n === '_acme-challenge.hello.dream' ? ['base-digest', 'wildcard-digest'] : []),
};
type Opt = { type: 'OPT'; flags: number; flag_do: boolean };
type Reply = DecodedPacket & { rcode: string; flag_cd: boolean; additionals: Opt[] };

let server: DreamDns;
beforeAll(async () => { server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone }); });
afterAll(async () => { await server.close(); });

function udp(hex: string): Promise<Reply> {
  const msg = Buffer.from(hex, 'hex');
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { sock.close(); reject(new Error('no answer')); }, 2000);
    sock.on('message', (m) => { clearTimeout(t); sock.close(); resolve(dnsPacket.decode(m) as Reply); });
    sock.send(msg, server.port, '127.0.0.1');
  });
}

/** Queries over one TCP connection, one after the other as dig's transfer and then a lookup would. */
async function tcp(hexes: string[]): Promise<Reply[]> {
  const c = net.connect(server.port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  const out: Reply[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { c.destroy(); resolve(out); }, 3000);
    c.on('error', reject);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as Reply);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === hexes.length) { clearTimeout(t); c.end(); resolve(out); }
    });
    for (const h of hexes) { const m = Buffer.from(h, 'hex'); const f = Buffer.alloc(2 + m.length); f.writeUInt16BE(m.length); m.copy(f, 2); c.write(f); }
  });
}

describe('.dream DNS behind real resolvers', () => {
  it('unbound\'s validating query (0x20 case, CD, EDNS DO): case echoed, CD and DO copied back (RFC 4035 3.1.6, RFC 3225 3)', async () => {
    // unbound → stub: "HEllO.DreAM A", flags CD, OPT 1232 with DO.
    const r = await udp('e659001000010000000000010548456c6c4f05447265414d000001000100002904d0000080000000');
    expect(r).toMatchObject({ id: 0xe659, rcode: 'NOERROR', flag_aa: true, flag_cd: true, questions: [{ name: 'HEllO.DreAM', type: 'A' }], answers: [{ type: 'A', data: '127.0.0.1' }] });
    expect(r.additionals).toMatchObject([{ type: 'OPT', flag_do: true }]);
    // The same for a negative answer ("www9.DreAM A").
    const nx = await udp('f2ff00100001000000000001047777773905447265414d000001000100002904d0000080000000');
    expect(nx).toMatchObject({ rcode: 'NXDOMAIN', flag_cd: true, questions: [{ name: 'www9.DreAM' }], authorities: [{ type: 'SOA' }] });
    expect(nx.additionals).toMatchObject([{ type: 'OPT', flag_do: true }]);
  });

  it('dig\'s query without +dnssec/+cd (RD, AD, COOKIE option): no DO, no CD in the answer', async () => {
    // dig hello.dream: flags RD AD, OPT 1232 with a client COOKIE (option 10), no DO.
    const r = await udp('9e45012000010000000000010568656c6c6f05647265616d000001000100002904d000000000000c000a00080e8ecabe5c01d10a');
    expect(r).toMatchObject({ rcode: 'NOERROR', flag_cd: false, flag_ad: false, answers: [{ data: '127.0.0.1' }] });
    expect(r.additionals).toMatchObject([{ type: 'OPT', flag_do: false }]);
  });

  it('zone transfers (dig AXFR / IXFR over TCP) are REFUSED, not an empty NOERROR; the connection keeps answering', async () => {
    const axfr = '45770020000100000000000105647265616d0000fc000100002904d000000000000c000a00082545ddb164d24cbd';
    const ixfr = '509f0000000100000001000105647265616d0000fb0001c00c0006000100000000001600006b13aea00000000000000000000000000000000000002904d000000000000c000a0008bb22622777eb301f';
    const lookup = '9e45012000010000000000010568656c6c6f05647265616d000001000100002904d000000000000c000a00080e8ecabe5c01d10a';
    const [a, i, l] = await tcp([axfr, ixfr, lookup]);
    expect(a).toMatchObject({ id: 0x4577, rcode: 'REFUSED', flag_aa: false, questions: [{ name: 'dream', type: 'AXFR' }], answers: [], authorities: [] });
    expect(i).toMatchObject({ id: 0x509f, rcode: 'REFUSED', flag_aa: false, answers: [], authorities: [] });
    expect(l).toMatchObject({ rcode: 'NOERROR', answers: [{ data: '127.0.0.1' }] });
  });
});
