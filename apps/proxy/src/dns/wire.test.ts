// The `.dream` DNS on the wire: raw packets (dns-packet) over real UDP and TCP sockets, checked for
// what resolvers and ACME CAs (Pebble, boulder's Unbound) rely on, and against hostile input.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket, type Packet } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DreamDns } from './server.js';
import type { Zone } from './answer.js';

const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.test`;
const challenges: Record<string, string[]> = {
  '_acme-challenge.hello.dream': ['base-digest', 'wildcard-digest'],
  '_acme-challenge.solo.dream': ['only-wildcard'],
  [`_acme-challenge.${long}`]: ['x'.repeat(43), 'y'.repeat(43), 'z'.repeat(43)],
};
const served = ['hello.dream', 'www.example.test', 'a.b.dream'];
const zone: Zone = {
  edge: ['127.0.0.1'],
  serves: (h) => served.includes(h),
  servesBelow: (n) => served.some((h) => h.endsWith(`.${n}`)),
  txt: (n) => challenges[n] ?? [],
};

let server: DreamDns;
let sock: dgram.Socket;
beforeAll(async () => {
  server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone });
  sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
});
afterAll(async () => { sock.close(); await server.close(); });

const query = (name: string, type = 'A', extra: Partial<Packet> = {}): Buffer =>
  dnsPacket.encode({ type: 'query', id: 4321, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A', class: 'IN' }], ...extra });
/** dns-packet decodes rcode and opcode too, which its types leave out. */
type Reply = DecodedPacket & { rcode: string; opcode: string };
const edns = (version = 0): Partial<Packet> => ({ additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, ednsVersion: version, flags: 0 } as never] });

/** One datagram out; the decoded reply with its id, or undefined after `wait` ms of silence. */
// Waits up to `wait` ms: an answer ends the wait at once, so only the cases expecting silence pass a
// short one. On a loaded test machine a reply can take well over 300 ms.
function udp(msg: Buffer, wait = 2000): Promise<Reply | undefined> {
  return new Promise((resolve) => {
    const done = (m?: Buffer) => { clearTimeout(t); sock.off('message', on); resolve(m && (dnsPacket.decode(m) as never)); };
    const on = (m: Buffer) => { if (m.length >= 2 && m.readUInt16BE(0) === msg.readUInt16BE(0)) done(m); };
    const t = setTimeout(done, wait);
    sock.on('message', on);
    sock.send(msg, server.port, '127.0.0.1');
  });
}

/** Messages over one TCP connection (2-byte length framing), written at once; the decoded replies. */
async function tcp(msgs: Buffer[], expect = msgs.length): Promise<Reply[]> {
  const c = net.connect(server.port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  const out: Reply[] = [];
  return new Promise((resolve, reject) => {
    c.on('error', reject);
    c.on('close', () => resolve(out));
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as Reply);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= expect) c.end();
    });
    c.write(Buffer.concat(msgs.map((m) => { const f = Buffer.alloc(2 + m.length); f.writeUInt16BE(m.length); m.copy(f, 2); return f; })));
  });
}

describe('.dream DNS on the wire', () => {
  it('echoes a 0x20 mixed-case question exactly and answers it case-insensitively, authoritatively', async () => {
    const r = await udp(query('HeLLo.DrEaM'));
    expect(r).toMatchObject({ id: 4321, rcode: 'NOERROR', flag_aa: true, flag_rd: true, flag_ra: false, questions: [{ name: 'HeLLo.DrEaM', type: 'A' }] });
    expect(r!.answers).toMatchObject([{ type: 'A', data: '127.0.0.1' }]);
  });

  it('NXDOMAIN for unknown names, NODATA (+ SOA) for a known name without that type, e.g. AAAA with an IPv4-only edge', async () => {
    expect(await udp(query('nope.dream'))).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, answers: [], authorities: [{ name: 'dream', type: 'SOA' }] });
    for (const type of ['AAAA', 'MX']) {
      expect(await udp(query('hello.dream', type))).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [], authorities: [{ name: 'dream', type: 'SOA' }] });
    }
  });

  it('a resolver keeps "no such name" for 5 s (RFC 2308: the SOA\'s TTL and MINIMUM), so an app created just after a look-up is reachable at once', async () => {
    // It was 60 s: unbound in front answered NXDOMAIN for a new app for up to a minute.
    for (const [name, type] of [['nope.dream', 'A'], ['hello.dream', 'AAAA']]) {
      expect((await udp(query(name!, type)))!.authorities).toMatchObject([{ type: 'SOA', ttl: 5, data: { minimum: 5 } }]);
    }
    expect((await udp(query('hello.dream')))!.answers).toMatchObject([{ type: 'A', ttl: 60 }]);
  });

  it('SOA and NS at the apex; REFUSED (no AA, no data) outside the zone; custom domains served', async () => {
    expect((await udp(query('dream', 'SOA')))!.answers).toMatchObject([{ type: 'SOA', data: { mname: 'ns.dream', minimum: 5 } }]);
    expect((await udp(query('dream', 'NS')))!.answers).toMatchObject([{ type: 'NS', data: 'ns.dream' }]);
    expect(await udp(query('example.org'))).toMatchObject({ rcode: 'REFUSED', flag_aa: false, answers: [], authorities: [] });
    expect((await udp(query('www.example.test')))!.answers).toMatchObject([{ type: 'A', data: '127.0.0.1' }]);
  });

  it('ns.dream, which the SOA and NS name, resolves to the edge, authoritatively, over UDP and TCP', async () => {
    const soa = (await udp(query('dream', 'SOA')))!.answers![0] as { data: { mname: string } };
    const ns = (await udp(query('dream', 'NS')))!.answers![0] as { data: string };
    for (const name of [soa.data.mname, ns.data]) {
      expect(await udp(query(name))).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [{ name: 'ns.dream', type: 'A', data: '127.0.0.1' }], authorities: [] });
      expect((await tcp([query(name)]))[0]).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [{ type: 'A', data: '127.0.0.1' }] });
    }
    // IPv4-only edge: the name exists, it just has no AAAA.
    expect(await udp(query('ns.dream', 'AAAA'))).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [], authorities: [{ name: 'dream', type: 'SOA' }] });
  });

  it('the unserved parent of a served name (b.dream for a.b.dream) is NODATA, not NXDOMAIN (RFC 8020)', async () => {
    for (const type of ['A', 'AAAA', 'TXT']) {
      expect(await udp(query('b.dream', type))).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [], authorities: [{ name: 'dream', type: 'SOA' }] });
    }
    expect((await udp(query('a.b.dream')))!.answers).toMatchObject([{ name: 'a.b.dream', type: 'A', data: '127.0.0.1' }]);
    // Only ancestors: a sibling or a name below the served one stays NXDOMAIN.
    for (const name of ['c.dream', 'x.a.b.dream']) expect(await udp(query(name))).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, answers: [] });
  });

  it('all TXT values of an in-flight DNS-01 order (wildcard + base name) at once, TTL 0', async () => {
    const r = await udp(query('_acme-challenge.hello.dream', 'TXT'));
    expect(r!.answers!.map((a) => [(a as { ttl: number }).ttl, String((a as { data: Buffer[] }).data[0])])).toEqual([[0, 'base-digest'], [0, 'wildcard-digest']]);
  });

  it('the parent of a challenge name exists (empty non-terminal): NODATA, not NXDOMAIN', async () => {
    expect(await udp(query('solo.dream'))).toMatchObject({ rcode: 'NOERROR', answers: [], authorities: [{ type: 'SOA' }] });
  });

  it('FORMERR for zero or several questions, NOTIMP (opcode echoed) for other opcodes, REFUSED for other classes', async () => {
    expect(await udp(dnsPacket.encode({ type: 'query', id: 7, questions: [] }))).toMatchObject({ id: 7, rcode: 'FORMERR', flag_aa: false });
    const two = dnsPacket.encode({ type: 'query', id: 8, questions: [{ name: 'hello.dream', type: 'A' }, { name: 'nope.dream', type: 'A' }] });
    expect(await udp(two)).toMatchObject({ id: 8, rcode: 'FORMERR', answers: [] });
    const notify = query('hello.dream', 'SOA');
    notify.writeUInt16BE(4 << 11, 2);
    expect(await udp(notify)).toMatchObject({ rcode: 'NOTIMP', opcode: 'NOTIFY', answers: [] });
    const chaos = dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'hello.dream', type: 'A', class: 'CH' }] });
    expect(await udp(chaos)).toMatchObject({ rcode: 'REFUSED', answers: [] });
  });

  it('a response sent to the server gets no reply (no reflection loops)', async () => {
    expect(await udp(dnsPacket.encode({ type: 'response', id: 5, questions: [{ name: 'hello.dream', type: 'A' }] }), 300)).toBeUndefined();
  });

  it('EDNS0: OPT in the query → OPT in the response; an unknown EDNS version → BADVERS', async () => {
    const r = await udp(query('hello.dream', 'A', edns()));
    expect(r).toMatchObject({ rcode: 'NOERROR', answers: [{ data: '127.0.0.1' }], additionals: [{ type: 'OPT', udpPayloadSize: 1232, ednsVersion: 0 }] });
    const bad = await udp(query('hello.dream', 'A', edns(1)));
    expect(bad).toMatchObject({ answers: [], additionals: [{ type: 'OPT', extendedRcode: 1 }] }); // 1 << 4 | 0 = 16, BADVERS
  });

  it('an answer over 512 bytes to a query without EDNS0 is truncated (TC); over TCP it comes whole', async () => {
    const name = `_acme-challenge.${long}`;
    expect(await udp(query(name, 'TXT'))).toMatchObject({ flag_tc: true, answers: [], questions: [{ name }] });
    expect((await udp(query(name, 'TXT', edns())))!.answers).toHaveLength(3);
    const [r] = await tcp([query(name, 'TXT')]);
    expect(r).toMatchObject({ flag_tc: false, answers: [{ type: 'TXT' }, { type: 'TXT' }, { type: 'TXT' }] });
  });

  it('TCP: queries pipelined on one connection, a burst over several 64 KiB reads included', async () => {
    const msgs = Array.from({ length: 8000 }, (_, i) => query(i % 2 ? 'hello.dream' : 'nope.dream'));
    const rs = await tcp(msgs);
    expect(rs).toHaveLength(8000);
    expect(rs.filter((r) => r.rcode === 'NXDOMAIN')).toHaveLength(4000);
  });

  it('silence for less than a header, FORMERR for a truncated query or bad labels; a huge datagram or a flood of garbage does not stop it', async () => {
    const ok = query('hello.dream');
    expect(await udp(Buffer.from([1, 2, 3]), 150)).toBeUndefined();
    for (const bad of [ok.subarray(0, ok.length - 3), Buffer.from('000100000001000000000000ff', 'hex')]) expect(await udp(bad)).toMatchObject({ rcode: 'FORMERR', questions: [], answers: [] });
    expect((await udp(Buffer.concat([ok, Buffer.alloc(60_000, 0xff)])))!.answers).toHaveLength(1);
    const flood = dgram.createSocket('udp4');
    for (let i = 0; i < 5000; i++) flood.send(Buffer.from(Array.from({ length: 1 + (i % 300) }, (_, j) => (i * 31 + j * 7) & 0xff)), server.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
    flood.close();
    // Asked as a resolver asks, again after a timeout: while the server still works through the
    // flood its socket buffer is full and the kernel drops a datagram — as for any UDP server.
    let after: Reply | undefined;
    for (let i = 0; i < 4 && !after; i++) after = await udp(query('hello.dream'), 2000);
    expect(after!.answers).toHaveLength(1);
  });

  it('survives a datagram from source port 0 (send() would throw) and accept() errors on TCP', async () => {
    // Spoofing port 0 takes a raw socket; hand the server's own socket the same event instead.
    const inner = server as unknown as { udp: dgram.Socket; tcp: net.Server };
    inner.udp.emit('message', query('hello.dream'), { address: '127.0.0.1', family: 'IPv4', port: 0, size: 29 });
    inner.tcp.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
    expect((await udp(query('hello.dream')))!.answers).toHaveLength(1);
  });

  it('when the TCP port is taken, start fails and leaves the UDP port free', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    await expect(DreamDns.start({ host: '127.0.0.1', port, zone })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    blocker.close();
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.bind(port, '127.0.0.1', () => resolve()); });
    probe.close();
  });
});
