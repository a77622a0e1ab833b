// The zone the proxy really answers from (tls/start.ts dreamZone: a CertManager's hosts + DNS-01
// records on the shared data dir), asked over UDP with raw packets. Empty non-terminals — a name with
// nothing of its own but something below it — must be NODATA + SOA: NXDOMAIN there tells a resolver
// (RFC 8020, QNAME minimisation as boulder's Unbound does it) that nothing below exists either.
import dgram from 'node:dgram';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { beforeEach, describe, expect, it } from 'vitest';
import { BuiltinCa } from '../tls/ca.js';
import { Dns01Solver } from '../tls/challenges/dns01.js';
import { BuiltinIssuer } from '../tls/issuer.js';
import { CertManager } from '../tls/manager.js';
import { dreamZone } from '../tls/start.js';
import { TlsStorage } from '../tls/storage.js';
import { onCleanup, tmp } from '../tls/test-support.js';
import { DreamDns } from './server.js';

type Reply = DecodedPacket & { rcode: string };
let dir: string;
let certs: CertManager;
let dns01: Dns01Solver;
let server: DreamDns;
let sock: dgram.Socket;

beforeEach(async () => {
  dir = tmp();
  const storage = new TlsStorage(dir);
  const issuer = new BuiltinIssuer(await BuiltinCa.open(storage), 30);
  certs = new CertManager({ storage, issuerFor: () => issuer, tickMs: 3_600_000 });
  dns01 = new Dns01Solver(storage);
  server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone: dreamZone(['127.0.0.1'], certs, dns01) });
  sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  onCleanup(async () => { sock.close(); await server.close(); await certs.close(); });
});

let nextId = 1;
function ask(name: string, type = 'A'): Promise<Reply> {
  const id = nextId++ & 0xffff;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { sock.off('message', on); reject(new Error(`no answer for ${name} ${type}`)); }, 2000);
    const on = (m: Buffer) => { if (m.readUInt16BE(0) === id) { clearTimeout(t); sock.off('message', on); resolve(dnsPacket.decode(m) as Reply); } };
    sock.on('message', on);
    sock.send(dnsPacket.encode({ type: 'query', id, questions: [{ name, type: type as 'A', class: 'IN' }] }), server.port, '127.0.0.1');
  });
}
const NODATA = { rcode: 'NOERROR', flag_aa: true, answers: [], authorities: [{ name: 'dream', type: 'SOA' }] };
const NXDOMAIN = { rcode: 'NXDOMAIN', flag_aa: true, answers: [], authorities: [{ name: 'dream', type: 'SOA' }] };

describe('.dream empty non-terminals, as the proxy wires its zone', () => {
  it('a wildcard host is the only name under its parent: the parent is NODATA + SOA, not NXDOMAIN', async () => {
    certs.ensure(['*.b.dream']);
    for (const type of ['A', 'AAAA', 'TXT', 'NS']) expect(await ask('b.dream', type)).toMatchObject(NODATA);
    expect(await ask('B.Dream')).toMatchObject(NODATA);
    // Only the parent: an unrelated name stays NXDOMAIN.
    expect(await ask('c.dream')).toMatchObject(NXDOMAIN);
  });

  it('a DNS-01 order of a sibling process on the shared data dir, for a name this process does not serve: every ancestor of its TXT exists', async () => {
    certs.ensure(['hello.dream']);
    // Another proxy (or worker) with its own route table orders *.x.b.dream; this process answers the DNS.
    const sibling = new Dns01Solver(new TlsStorage(dir));
    await sibling.present('*.x.b.dream', 'tok', 'digest-1');
    expect((await ask('_acme-challenge.x.b.dream', 'TXT')).answers).toMatchObject([{ type: 'TXT', data: [Buffer.from('digest-1')] }]);
    // A resolver minimising the query name asks b.dream, then x.b.dream, then the TXT name: an
    // NXDOMAIN at b.dream ends the lookup before the CA ever sees the record.
    for (const name of ['b.dream', 'x.b.dream']) {
      for (const type of ['A', 'NS', 'TXT']) expect(await ask(name, type), `${name} ${type}`).toMatchObject(NODATA);
    }
    expect(await ask('c.dream')).toMatchObject(NXDOMAIN);
    expect(await ask('y.b.dream')).toMatchObject(NXDOMAIN);
    expect(await ask('z.x.b.dream')).toMatchObject(NXDOMAIN);

    await sibling.cleanup('*.x.b.dream', 'tok', 'digest-1');
    expect(await ask('b.dream')).toMatchObject(NXDOMAIN);
    expect(await ask('x.b.dream')).toMatchObject(NXDOMAIN);
  });

  it('this process\'s own order still in flight after its name left the table: the ancestors exist until the record is cleaned up', async () => {
    certs.ensure([]);
    await dns01.present('deep.q.dream', 'tok', 'digest-2');
    expect(await ask('q.dream')).toMatchObject(NODATA);
    await dns01.cleanup('deep.q.dream', 'tok', 'digest-2');
    expect(await ask('q.dream')).toMatchObject(NXDOMAIN);
  });
});
