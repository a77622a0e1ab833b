// Malformed OPT records (RFC 6891 6.1.1, 6.1.2, 7) over real UDP and TCP sockets. dns-packet decodes
// some of them without an error (an option cut short, an OPT running past the packet, a non-root
// owner, an OPT in the answer or authority section), and they were answered NOERROR as if they were
// fine; RFC 6891 asks for FORMERR. One whose options alone are malformed gets the question and our
// OPT with it (RFC 6891 7: "the response MUST include an OPT record"); a broken message the bare header.
import { describe, expect, it } from 'vitest';
import { decode, helloServer } from './test-client.js';

/** Header (RD set) with one question, `ar` additional (`an` answer, `ns` authority) records, then `hello.dream A IN`. */
const head = (id: number, ar: number, an = 0, ns = 0) => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0); h.writeUInt16BE(0x0100, 2); h.writeUInt16BE(1, 4); h.writeUInt16BE(an, 6); h.writeUInt16BE(ns, 8); h.writeUInt16BE(ar, 10);
  return Buffer.concat([h, Buffer.from('0568656c6c6f05647265616d0000010001', 'hex')]);
};
/** An OPT record: owner, type 41, UDP size 1232, version, RDLENGTH (default: the RDATA's), RDATA. */
const opt = ({ owner = '00', version = 0, rdlength, rdata = '' }: { owner?: string; version?: number; rdlength?: number; rdata?: string }) => {
  const f = Buffer.alloc(10);
  f.writeUInt16BE(41, 0); f.writeUInt16BE(1232, 2); f[5] = version; f.writeUInt16BE(rdlength ?? rdata.length / 2, 8);
  return Buffer.concat([Buffer.from(owner, 'hex'), f, Buffer.from(rdata, 'hex')]);
};
const COOKIE8 = '0102030405060708'; // an 8-byte client cookie (option 10)
const A_RECORD = 'c00c000100010000003c00047f000001'; // hello.dream A 127.0.0.1, the name compressed

/** The cases: [what, the query]. Ids are distinct so replies are told apart. The OPT is whole, its options are not. */
const badOptions: [string, Buffer][] = [
  ['an option (COOKIE) claiming 16 bytes with 8 left in the OPT, the last record', Buffer.concat([head(0x0101, 1), opt({ rdata: `000a0010${COOKIE8}` })])],
  ['an option claiming more than the OPT RDATA, the rest lying in the next record', Buffer.concat([head(0x0102, 2), opt({ rdata: `000a000c${COOKIE8}` }), Buffer.from(A_RECORD, 'hex')])],
  ['an option header cut by the end of the OPT RDATA', Buffer.concat([head(0x0103, 2), opt({ rdata: `000a0008${COOKIE8}000c` }), Buffer.from(A_RECORD, 'hex')])],
];
/** The message itself is broken: no OPT record to speak of where one may be. */
const badMessage: [string, Buffer][] = [
  ['an OPT RDLENGTH past the packet, a PADDING option claiming the rest', Buffer.concat([head(0x0104, 1), opt({ rdlength: 8, rdata: '000c0004' })])],
  ['an OPT owned by hello.dream (a pointer to the question name)', Buffer.concat([head(0x0105, 1), opt({ owner: 'c00c' })])],
  ['an OPT owned by "a."', Buffer.concat([head(0x0106, 1), opt({ owner: '016100', rdata: `000a0008${COOKIE8}` })])],
  ['an OPT in the answer section', Buffer.concat([head(0x0107, 0, 1), opt({})])],
  ['an OPT in the authority section, another in the additional section', Buffer.concat([head(0x0108, 1, 0, 1), opt({}), opt({})])],
  ['an A record, then an OPT, in the answer section', Buffer.concat([head(0x0109, 0, 2), Buffer.from(A_RECORD, 'hex'), opt({ rdata: `000a0008${COOKIE8}` })])],
];
const malformed = [...badOptions, ...badMessage];

const { udp, tcp } = helloServer();
/** What formerr.test.ts sees for an undecodable query: the header alone, the query's id and RD. */
const FORMERR = { type: 'response', rcode: 'FORMERR', flag_aa: false, flag_rd: true, questions: [], answers: [], authorities: [], additionals: [] };
/** For malformed options: the question and our OPT besides. */
const OPT_FORMERR = { ...FORMERR, questions: [{ name: 'hello.dream', type: 'A', class: 'IN' }], additionals: [{ type: 'OPT', ednsVersion: 0, extendedRcode: 0, udpPayloadSize: 1232, options: [] }] };
const expected = ([, q]: [string, Buffer]) => ({ ...(badOptions.some(([, b]) => b === q) ? OPT_FORMERR : FORMERR), id: q.readUInt16BE(0) });

describe('.dream DNS: malformed OPT records', () => {
  it('over UDP: FORMERR with the query\'s id and RD; the question and our OPT for malformed options, else the header alone (never larger than the query)', async () => {
    const raws = [];
    for (const [, q] of malformed) raws.push(await udp(q));
    // Case by case first, so a failure names every case answered otherwise.
    expect(raws.map((r, i) => [malformed[i][0], decode(r).rcode, decode(r).additionals?.length ?? 0, r!.length <= malformed[i][1].length]))
      .toEqual(malformed.map(([what]) => [what, 'FORMERR', badOptions.some(([w]) => w === what) ? 1 : 0, true]));
    expect(raws.map(decode)).toMatchObject(malformed.map(expected));
    for (const [i, r] of raws.entries()) if (!badOptions.some(([, b]) => b === malformed[i][1])) expect(r!.length).toBe(12);
  });

  it('over TCP the same, on one connection that then answers a good query', async () => {
    const good = Buffer.concat([head(0x0200, 1), opt({ rdata: `000a0008${COOKIE8}` })]);
    const { replies, closed } = await tcp([...malformed.map(([, q]) => q), good]);
    expect(closed).toBe(false);
    expect(replies.map(decode)).toMatchObject([
      ...malformed.map(expected),
      { id: 0x0200, rcode: 'NOERROR', answers: [{ type: 'A', data: '127.0.0.1' }], additionals: [{ type: 'OPT', ednsVersion: 0 }] },
    ]);
  });

  it('the DO bit of a query with malformed options comes back in our OPT', async () => {
    const q = Buffer.concat([head(0x0110, 1), opt({ rdata: `000a0010${COOKIE8}` })]);
    q.writeUInt16BE(0x8000, q.length - 12 - 2 - 2); // before the RDATA (12) and RDLENGTH: the TTL's low half, DO
    expect(decode(await udp(q))).toMatchObject({ id: 0x0110, rcode: 'FORMERR', additionals: [{ type: 'OPT', flag_do: true }] });
  });

  it('well-formed OPTs still answered: options filling the RDATA exactly, another record after it, a root owner given as a pointer', async () => {
    const fine = [
      Buffer.concat([head(0x0301, 1), opt({ rdata: `000a0008${COOKIE8}000c0000` })]),
      Buffer.concat([head(0x0302, 2), opt({ rdata: `000a0008${COOKIE8}` }), Buffer.from(A_RECORD, 'hex')]),
      Buffer.concat([head(0x0303, 2), Buffer.from(A_RECORD, 'hex'), opt({})]),
      Buffer.concat([head(0x0304, 1), opt({ owner: 'c018' })]), // offset 24: the question name's final zero byte
      Buffer.concat([head(0x0305, 1, 1), Buffer.from(A_RECORD, 'hex'), opt({})]), // a record in the answer section, not an OPT
    ];
    for (const q of fine) {
      expect(decode(await udp(q))).toMatchObject({ id: q.readUInt16BE(0), rcode: 'NOERROR', flag_aa: true, answers: [{ type: 'A', data: '127.0.0.1' }], additionals: [{ type: 'OPT' }] });
    }
  });

  it('two OPT records: FORMERR; EDNS version 1: BADVERS with our OPT (version 0), over UDP and TCP', async () => {
    const two = Buffer.concat([head(0x0401, 2), opt({}), opt({})]);
    const v1 = Buffer.concat([head(0x0402, 1), opt({ version: 1 })]);
    const { replies } = await tcp([two, v1]);
    for (const r of [[decode(await udp(two)), decode(await udp(v1))], replies.map(decode)]) {
      expect(r[0]).toMatchObject({ id: 0x0401, rcode: 'FORMERR', answers: [] });
      // BADVERS is 16: the header's 4 low bits (0) and the OPT's extended rcode (1) above them.
      expect(r[1]).toMatchObject({ id: 0x0402, rcode: 'NOERROR', answers: [], additionals: [{ type: 'OPT', extendedRcode: 1, ednsVersion: 0, udpPayloadSize: 1232 }] });
    }
  });
});
