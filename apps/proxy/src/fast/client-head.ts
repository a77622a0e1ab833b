// The response head the client gets on the fast path, written as bytes from the upstream's head
// just parsed (response-head.ts): no string per field, one Buffer per head.
import { CLOSE, dropped, KEEP_ALIVE, nameIs, NOTHING, type ResponseHead } from './response-head.js';

const HTTP11 = Buffer.from('HTTP/1.1 ');
const REQUEST_ID = Buffer.from('x-request-id: ');
const CHUNKED = Buffer.from('transfer-encoding: chunked\r\n');
let keepScratch = new Uint8Array(64);

/** src[s, e) into out at `at`; returns the new end. A loop: Buffer#copy with offsets makes a view per call. */
function copyBytes(src: Buffer, s: number, e: number, out: Buffer, at: number): number {
  for (let i = s; i < e; i++) out[at++] = src[i]!;
  return at;
}

/**
 * The head the client gets, as bytes, from the head just parsed: hop-by-hop and Connection-listed
 * fields dropped, names and values as the app wrote them, X-Request-Id added when the app sent
 * none, our own framing and `connection` (connection-field.ts; null on a 1xx) last.
 */
export function clientResponseHead(h: ResponseHead, requestId: string, o: { chunked: boolean; connection: Buffer | null }): Buffer {
  const { src, fields, count } = h;
  // keep-alive and close are hop-by-hop already: only other listed names need a look.
  const listed = h.connectionListed === KEEP_ALIVE || h.connectionListed === CLOSE ? NOTHING : h.connectionListed;
  if (keepScratch.length < count) keepScratch = new Uint8Array(count * 2);
  const keep = keepScratch;
  let size = HTTP11.length + 4 + h.reason.length + 2;
  let hasId = false;
  for (let f = 0; f < count; f++) {
    const ns = fields[4 * f]!, ne = fields[4 * f + 1]!;
    keep[f] = 0;
    if (dropped(src, ns, ne, listed)) continue;
    if (nameIs(src, ns, ne, 'x-request-id')) hasId = true;
    keep[f] = 1;
    size += ne - ns + 2 + fields[4 * f + 3]! - fields[4 * f + 2]! + 2;
  }
  if (!hasId) size += REQUEST_ID.length + requestId.length + 2;
  if (o.chunked) size += CHUNKED.length;
  if (o.connection) size += o.connection.length;
  const out = Buffer.allocUnsafe(size + 2);
  out.set(HTTP11, 0);
  let at = HTTP11.length;
  out[at++] = 48 + Math.floor(h.status / 100); out[at++] = 48 + (Math.floor(h.status / 10) % 10); out[at++] = 48 + (h.status % 10); out[at++] = 32;
  at += out.write(h.reason, at, 'latin1');
  out[at++] = 13; out[at++] = 10;
  for (let f = 0; f < count; f++) {
    if (keep[f] !== 1) continue;
    at = copyBytes(src, fields[4 * f]!, fields[4 * f + 1]!, out, at);
    out[at++] = 58; out[at++] = 32;
    at = copyBytes(src, fields[4 * f + 2]!, fields[4 * f + 3]!, out, at);
    out[at++] = 13; out[at++] = 10;
  }
  if (!hasId) {
    out.set(REQUEST_ID, at); at += REQUEST_ID.length;
    at += out.write(requestId, at, 'latin1');
    out[at++] = 13; out[at++] = 10;
  }
  if (o.chunked) { out.set(CHUNKED, at); at += CHUNKED.length; }
  if (o.connection) { out.set(o.connection, at); at += o.connection.length; }
  out[at++] = 13; out[at++] = 10;
  return out;
}
