// Pure: what dns-packet does not check in a query's OPT record (RFC 6891), read from the raw bytes.
// dns-packet stays the decoder; it cuts an option whose length runs past the OPT's RDATA or the packet
// short (or reads the next record's bytes as its data), decodes an OPT whose RDLENGTH runs past the
// packet when the last option's length covers it, and ignores the OPT's owner name. We answered such
// queries as if they were fine (NOERROR); RFC 6891 6.1.2 and 7 ask for FORMERR.
// Several OPT records and an unknown EDNS version stay answer.ts's (FORMERR, BADVERS with our OPT).

const HEADER = 12;
const OPT = 41;
/** Hops followed in a compressed owner name: any real root pointer takes one; bounds a loop. */
const MAX_HOPS = 8;

/**
 * Why the message's OPT record is malformed, or undefined when it is not (or there is none).
 * Only walks the message when ARCOUNT > 0: skips the question, answer and authority sections by
 * their lengths, then checks each additional record. Meant for a message dns-packet decoded, so
 * a record running past the packet is reported rather than thrown.
 */
export function optProblem(msg: Buffer): string | undefined {
  if (msg.length < HEADER) return undefined;
  const arcount = msg.readUInt16BE(10);
  if (arcount === 0) return undefined;
  let off = HEADER;
  for (let i = msg.readUInt16BE(4); i > 0; i--) {
    const end = nameEnd(msg, off);
    if (end < 0 || end + 4 > msg.length) return 'a question runs past the end of the message';
    off = end + 4;
  }
  for (let i = msg.readUInt16BE(6) + msg.readUInt16BE(8); i > 0; i--) {
    off = skipRecord(msg, off);
    if (off < 0) return 'an answer or authority record runs past the end of the message';
  }
  for (let i = arcount; i > 0; i--) {
    const owner = off;
    const fixed = nameEnd(msg, off);
    if (fixed < 0 || fixed + 10 > msg.length) return 'an additional record runs past the end of the message';
    const rdata = fixed + 10;
    const end = rdata + msg.readUInt16BE(fixed + 8);
    if (msg.readUInt16BE(fixed) === OPT) {
      if (end > msg.length) return 'the OPT record\'s RDLENGTH runs past the end of the message';
      if (!isRoot(msg, owner)) return 'the OPT record\'s owner name is not the root';
      for (let o = rdata; o < end;) {
        if (o + 4 > end) return 'an EDNS option header runs past the OPT record\'s RDATA';
        o += 4 + msg.readUInt16BE(o + 2);
        if (o > end) return 'an EDNS option\'s length runs past the OPT record\'s RDATA';
      }
    } else if (end > msg.length) return 'an additional record runs past the end of the message';
    off = end;
  }
  return undefined;
}

/** The offset after a resource record, or -1 when it runs past the message. */
function skipRecord(msg: Buffer, off: number): number {
  const fixed = nameEnd(msg, off);
  if (fixed < 0 || fixed + 10 > msg.length) return -1;
  const end = fixed + 10 + msg.readUInt16BE(fixed + 8);
  return end > msg.length ? -1 : end;
}

/** The offset after the (possibly compressed) name at `off`, or -1 when it runs past the message or
 * uses a label type other than plain or pointer (RFC 6891 retired the others). */
function nameEnd(msg: Buffer, off: number): number {
  while (off < msg.length) {
    const len = msg[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if (len & 0xc0) return -1;
    off += 1 + len;
  }
  return -1;
}

/** True for the root name: a zero byte, or a pointer to one (what a decompressing reader such as BIND's sees as the root). */
function isRoot(msg: Buffer, off: number): boolean {
  for (let hop = 0; hop <= MAX_HOPS && off < msg.length; hop++) {
    const b = msg[off];
    if (b === 0) return true;
    if ((b & 0xc0) !== 0xc0 || off + 2 > msg.length) return false;
    off = msg.readUInt16BE(off) & 0x3fff;
  }
  return false;
}
