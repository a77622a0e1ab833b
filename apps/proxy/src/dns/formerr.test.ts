// Queries the `.dream` DNS cannot decode but whose header is intact, over real UDP and TCP sockets:
// FORMERR (RFC 1035 4.1.1, RFC 6891 7, RFC 7871 7.1.1), not silence — silent, a resolver times out
// and retries (dig: three tries of 5 s) before it gives up. Anything that could be used to reflect
// traffic stays silent: less than a header, or a response.
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { decode, helloServer } from './test-client.js';

// Captured from dig 9.18 (Debian 12) on the wire: an ECS option (8) with no payload, which dns-packet
// cannot decode. `dig +ednsopt=8 hello.dream`: flags RD AD, a COOKIE option before it.
const DIG_ECS_EMPTY = '1f4a012000010000000000010568656c6c6f05647265616d000001000100002904d0000000000010000a00080ec5b4c882254b8600080000';
// `dig +ednsopt=ecs +noadflag +nocookie hello.dream`: flags RD, the empty ECS option alone.
const DIG_ECS_ALONE = 'db1e010000010000000000010568656c6c6f05647265616d000001000100002904d000000000000400080000';

/** A query encoded by dns-packet whose OPT record then claims more option bytes than the packet has.
 * (An option's own length running past the end is no such case: dns-packet cuts its data short.) */
function corrupted(id: number, flags: number): Buffer {
  const m = dnsPacket.encode({
    type: 'query', id, flags, questions: [{ name: 'hello.dream', type: 'A', class: 'IN' }],
    additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, flags: 0, options: [{ code: 'PADDING', length: 0 }] } as never],
  });
  m.writeUInt16BE(8, m.length - 6); // the OPT's RDLENGTH: 4 (one empty option) → 8
  return m;
}

const { udp, tcp } = helloServer();
const FORMERR = { type: 'response', rcode: 'FORMERR', flag_aa: false, flag_tc: false, questions: [], answers: [], authorities: [], additionals: [] };
const hex = (h: string) => Buffer.from(h, 'hex');

describe('.dream DNS: FORMERR for an undecodable query with an intact header', () => {
  it('dig +ednsopt=8 (an ECS option without payload) over UDP: FORMERR with the query\'s id, opcode and RD, never larger than the query', async () => {
    for (const [h, id, rd] of [[DIG_ECS_EMPTY, 0x1f4a, true], [DIG_ECS_ALONE, 0xdb1e, true]] as const) {
      const raw = await udp(hex(h));
      expect(decode(raw)).toMatchObject({ ...FORMERR, id, opcode: 'QUERY', flag_rd: rd });
      expect(raw!.length).toBeLessThanOrEqual(hex(h).length);
    }
  });

  it('the same over TCP, and the connection keeps answering the next query', async () => {
    const good = dnsPacket.encode({ type: 'query', id: 77, questions: [{ name: 'hello.dream', type: 'A', class: 'IN' }] });
    const { replies, closed } = await tcp([hex(DIG_ECS_EMPTY), corrupted(0x2222, 0), good]);
    expect(closed).toBe(false);
    expect(replies.map(decode)).toMatchObject([
      { ...FORMERR, id: 0x1f4a, flag_rd: true },
      { ...FORMERR, id: 0x2222, flag_rd: false },
      { id: 77, rcode: 'NOERROR', answers: [{ type: 'A', data: '127.0.0.1' }] },
    ]);
  });

  it('a corrupted OPT length: RD, CD and the opcode copied, AA not set', async () => {
    const plain = decode(await udp(corrupted(0x1234, 0)));
    expect(plain).toMatchObject({ ...FORMERR, id: 0x1234, opcode: 'QUERY', flag_rd: false, flag_cd: false });
    const notify = corrupted(0x1235, dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED);
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2); // opcode NOTIFY
    expect(decode(await udp(notify))).toMatchObject({ ...FORMERR, id: 0x1235, opcode: 'NOTIFY', flag_rd: true, flag_cd: true });
  });

  it('a bare 12-byte header announcing a question it lacks: a 12-byte FORMERR, no amplification', async () => {
    const header = hex('abcd01000001000000000000');
    const raw = await udp(header);
    expect(raw).toHaveLength(12);
    expect(decode(raw)).toMatchObject({ ...FORMERR, id: 0xabcd });
  });

  it('silence for less than a header and for an undecodable response; over TCP the connection is closed unanswered', async () => {
    const response = corrupted(0x3333, 0);
    response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2); // QR: it claims to be a response
    for (const bad of [hex('abcd0100000100000000'), hex('abcd010000010000000000'), response]) {
      expect(await udp(bad, 200)).toBeUndefined();
      expect(await tcp([bad])).toEqual({ replies: [], closed: true });
    }
  });
});
