// Pure: the answer to a message dns-packet cannot decode (e.g. `dig +ednsopt=8`: an ECS option
// without its payload). Silence there made the resolver time out and retry (dig: 3 tries of 5 s);
// RFC 1035 4.1.1, RFC 6891 7 and RFC 7871 7.1.1 ask for FORMERR.
import dnsPacket from 'dns-packet';
import { RCODE } from './answer.js';

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
