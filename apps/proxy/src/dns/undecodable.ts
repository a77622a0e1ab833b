// Pure: the answer to a message dns-packet cannot decode (e.g. `dig +ednsopt=8`: an ECS option
// without its payload). Silence there made the resolver time out and retry (dig: 3 tries of 5 s);
// RFC 1035 4.1.1, RFC 6891 7 and RFC 7871 7.1.1 ask for FORMERR.
import dnsPacket from 'dns-packet';
import { EDNS_UDP_SIZE, RCODE } from './answer.js';
import type { OptProblem } from './edns-check.js';

const HEADER = 12;
const QR = 0x8000;
const OPCODE_MASK = 0x7800;

/**
 * FORMERR for an undecodable query whose header is readable: its id, opcode, RD and CD copied back
 * (as answer.ts does for every response), no records — we could not read them, so we echo none.
 * undefined (stay silent) for less than a header, or for a message that is itself a response:
 * answering those invites loops and reflection. The reply is the 12-byte header alone, never
 * larger than the query, so a spoofed source gains no amplification.
 */
export function formerrFor(msg: Buffer): Buffer | undefined {
  if (msg.length < HEADER) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & QR) return undefined;
  const out = dnsPacket.encode({
    type: 'response',
    id: msg.readUInt16BE(0),
    flags: (flags & (OPCODE_MASK | dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED)) | RCODE.FORMERR,
  });
  return out.length <= msg.length ? out : undefined;
}

/**
 * FORMERR for a query whose OPT record is whole but has malformed options (edns-check.ts `withOpt`):
 * RFC 6891 7's minimal response, the header, the question as it came and our OPT (its DO bit copied,
 * as answer.ts does), so that the requestor sees we speak EDNS rather than retry without it. Built
 * from the raw bytes: dns-packet may not decode the query (an option cut by the end of the OPT's
 * RDATA reads the next record as option bytes). Never larger than the query, which held the
 * question and an OPT longer than ours.
 */
export function optFormerrFor(msg: Buffer, p: Extract<OptProblem, { withOpt: true }>): Buffer | undefined {
  const bare = formerrFor(msg);
  if (!bare) return undefined;
  const opt = Buffer.alloc(11); // root owner, type, UDP size, extended rcode, version, flags, RDLENGTH 0
  opt.writeUInt16BE(41, 1); opt.writeUInt16BE(EDNS_UDP_SIZE, 3); opt.writeUInt16BE(p.dnssecOk ? 0x8000 : 0, 7);
  const out = Buffer.concat([bare, msg.subarray(HEADER, p.questionEnd), opt]);
  out.writeUInt16BE(msg.readUInt16BE(4), 4);
  out.writeUInt16BE(1, 10);
  return out.length <= msg.length ? out : bare;
}
