// Pure: what dns-packet does not check in a query's OPT record (RFC 6891), read from the raw bytes.
// dns-packet stays the decoder; it cuts an option whose length runs past the OPT's RDATA or the packet
// short (or reads the next record's bytes as its data), decodes an OPT whose RDLENGTH runs past the
// packet when the last option's length covers it, ignores the OPT's owner name, and decodes an OPT
// in the answer or authority section as any record. We answered such queries as if they were fine
// (NOERROR); RFC 6891 6.1.1, 6.1.2 and 7 ask for FORMERR (BIND and Knot: FORMERR for each).
// Several OPT records and an unknown EDNS version stay answer.ts's (FORMERR, BADVERS with our OPT).

const HEADER = 12;
const OPT = 41;
/** Hops followed in a compressed owner name: any real root pointer takes one; bounds a loop. */
const MAX_HOPS = 8;

/**
 * What is wrong. `withOpt`: the FORMERR carries the question (the query's bytes up to
 * `questionEnd`) and our OPT, with the query's DO bit (`dnssecOk`); see optProblem().
 */
export type OptProblem = { why: string; withOpt: false } | { why: string; withOpt: true; questionEnd: number; dnssecOk: boolean };

/**
 * Why the message's OPT record is malformed, or undefined when it is not (or there is none). Only
 * walks the message when it has records (ordinary queries have none: they pay nothing): skips the
 * question by its length, checks that no answer or authority record is an OPT (RFC 6891 6.1.1: the
 * additional section only), then checks each additional record. Meant for a message dns-packet
 * decoded, so a record running past the packet is reported rather than thrown.
 *
 * `withOpt`: an OPT that is there, whole and owned by the root, whose options are badly formed — a
 * problem "with processing the OPT record itself", for which RFC 6891 7 says the FORMERR MUST carry
 * an OPT record, so that the requestor does not take us for a server without EDNS and retry without
 * it. BIND adds its OPT to such a FORMERR for an option value it finds malformed (DNS_R_OPTERR), not
 * for an option cut short, and Knot to none: their parsers stop first; we follow the RFC here. A message that is itself broken — an
 * OPT outside the additional section, not owned by the root, or running past the end — gets the bare
 * FORMERR that BIND and Knot send: no OPT, as for a query we cannot decode (undecodable.ts).
 */
export function optProblem(msg: Buffer): OptProblem | undefined {
  if (msg.length < HEADER) return undefined;
  const arcount = msg.readUInt16BE(10);
  const other = msg.readUInt16BE(6) + msg.readUInt16BE(8);
  if (arcount === 0 && other === 0) return undefined;
  const bare = (why: string): OptProblem => ({ why, withOpt: false });
  let off = HEADER;
  for (let i = msg.readUInt16BE(4); i > 0; i--) {
    const end = nameEnd(msg, off);
    if (end < 0 || end + 4 > msg.length) return bare('a question runs past the end of the message');
    off = end + 4;
  }
  const questionEnd = off;
  for (let i = other; i > 0; i--) {
    const fixed = nameEnd(msg, off);
    if (fixed >= 0 && fixed + 2 <= msg.length && msg.readUInt16BE(fixed) === OPT) return bare('an OPT record in the answer or authority section');
    off = skipRecord(msg, off);
    if (off < 0) return bare('an answer or authority record runs past the end of the message');
  }
  for (let i = arcount; i > 0; i--) {
    const owner = off;
    const fixed = nameEnd(msg, off);
    if (fixed < 0 || fixed + 10 > msg.length) return bare('an additional record runs past the end of the message');
    const rdata = fixed + 10;
    const end = rdata + msg.readUInt16BE(fixed + 8);
    if (msg.readUInt16BE(fixed) === OPT) {
      if (end > msg.length) return bare('the OPT record\'s RDLENGTH runs past the end of the message');
      if (!isRoot(msg, owner)) return bare('the OPT record\'s owner name is not the root');
      for (let o = rdata; o < end;) {
        const cut = o + 4 > end ? 'an EDNS option header runs past the OPT record\'s RDATA'
          : o + 4 + msg.readUInt16BE(o + 2) > end ? 'an EDNS option\'s length runs past the OPT record\'s RDATA' : undefined;
        if (cut) return questionCopyable(msg, questionEnd) ? { why: cut, withOpt: true, questionEnd, dnssecOk: (msg[fixed + 6] & 0x80) !== 0 } : bare(cut);
        o += 4 + msg.readUInt16BE(o + 2);
      }
    } else if (end > msg.length) return bare('an additional record runs past the end of the message');
    off = end;
  }
  return undefined;
}

/** Whether the question section can be sent back as it came: every compression pointer in it
 * points back into it (the reply keeps those offsets; the records after it are not sent). */
function questionCopyable(msg: Buffer, end: number): boolean {
  for (let off = HEADER; off < end;) {
    const len = msg[off];
    if ((len & 0xc0) === 0xc0) {
      const to = msg.readUInt16BE(off) & 0x3fff;
      if (to < HEADER || to >= off) return false;
      off += 2 + 4; // a pointer ends the name: type and class follow
    } else off += len === 0 ? 1 + 4 : 1 + len;
  }
  return true;
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
