// An upstream's response head, read as bytes (client-head.ts writes the client's from it). Pure. The head arrives in a shared
// read buffer; parsing it into strings (split, slice, trim, toLowerCase per field, then the
// rewritten head concatenated) was about a third of everything the fast path allocated per
// request, and that garbage is what makes the scavenges its p99 pays for (apps/proxy/README.md §
// Benchmark). Here a field is four offsets; only the reason phrase, Transfer-Encoding and a
// Connection header other than "keep-alive"/"close" become strings.
import { HOP_BY_HOP } from '../headers.js';
import { framingOf, type Framing } from './head.js';

export interface ResponseHead {
  status: number;
  reason: string;
  framing: Framing;
  /** The upstream will close after this response (HTTP/1.0 or Connection: close). */
  close: boolean;
  /** Names listed in the upstream's Connection header, lower-cased (hop-by-hop for this message). */
  connectionListed: readonly string[];
  /** The idle timeout the upstream announces (`Keep-Alive: timeout=N`), in ms; -1 when it says none. */
  keepAliveMs: number;
  /** The header fields' size as head-limits.ts counts it (`name: value` CRLF each, values trimmed). */
  fieldsSize: number;
  /**
   * The bytes parsed and, for `count` fields, [nameStart, nameEnd, valueStart, valueEnd] (value
   * trimmed) in `fields`. Both are only good until the next parse: `src` is a view of a shared
   * read buffer, and `fields` is reused — so the head is rewritten in the same read callback.
   */
  src: Buffer;
  fields: Int32Array;
  count: number;
}

const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;
// Field values: visible ASCII, space, tab and obs-text; never CR, LF, NUL or DEL (RFC 9110 §5.5).
const valueByte = (b: number) => b === 9 || (b >= 0x20 && b !== 0x7f);
const lower = (b: number) => (b >= 65 && b <= 90 ? b | 0x20 : b);
const digit = (b: number) => b >= 48 && b <= 57;

/** Does src[s, e) equal `name` (lower-case ASCII), ignoring case? */
export function nameIs(src: Buffer, s: number, e: number, name: string): boolean {
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (lower(src[s + i]!) !== name.charCodeAt(i)) return false;
  return true;
}

export function dropped(src: Buffer, s: number, e: number, listed: readonly string[]): boolean {
  for (const n of HOP_BY_HOP) if (nameIs(src, s, e, n)) return true;
  for (const n of listed) if (nameIs(src, s, e, n)) return true;
  return false;
}
export const KEEP_ALIVE: readonly string[] = ['keep-alive'];
export const CLOSE: readonly string[] = ['close'];
export const NOTHING: readonly string[] = [];
let fieldScratch = new Int32Array(4 * 64);

/** Parses src[0, end) — the head without its blank line — for a request with `method`; null = not valid HTTP/1.x. */
export function parseResponseHead(src: Buffer, end: number, method: string): ResponseHead | null {
  // "HTTP/1.x NNN reason", the reason optional.
  if (end < 12 || src[0] !== 72 || src[1] !== 84 || src[2] !== 84 || src[3] !== 80 || src[4] !== 47 || src[5] !== 49 || src[6] !== 46) return null;
  const minor = src[7];
  if ((minor !== 48 && minor !== 49) || src[8] !== 32 || !digit(src[9]!) || !digit(src[10]!) || !digit(src[11]!)) return null;
  let pos = src.indexOf(13, 12);
  if (pos < 0 || pos > end) pos = end;
  if (pos > 12 && src[12] !== 32) return null;
  for (let i = 13; i < pos; i++) if (!valueByte(src[i]!)) return null;
  const status = (src[9]! - 48) * 100 + (src[10]! - 48) * 10 + (src[11]! - 48);
  const reason = pos > 13 ? src.toString('latin1', 13, pos) : '';
  let fields = fieldScratch;
  let n = 0;
  let te: string | undefined;
  let clStart = -1;
  let clEnd = -1;
  let connection: string | undefined;
  let keepAliveMs = -1;
  let fieldsSize = 0;
  // src[pos] is the CR ending the previous line; the head ends at `end`.
  while (pos < end) {
    if (src[pos + 1] !== 10) return null;
    const at = pos + 2;
    let e = src.indexOf(13, at);
    if (e < 0 || e > end) e = end;
    pos = e;
    let colon = at;
    while (colon < e && TOKEN[src[colon]!] === 1) colon++;
    if (colon === at || colon === e || src[colon] !== 58) return null;
    let vs = colon + 1;
    let ve = e;
    for (let i = vs; i < ve; i++) if (!valueByte(src[i]!)) return null;
    while (vs < ve && (src[vs] === 32 || src[vs] === 9)) vs++;
    while (ve > vs && (src[ve - 1] === 32 || src[ve - 1] === 9)) ve--;
    fieldsSize += colon - at + ve - vs + 4;
    if (nameIs(src, at, colon, 'content-length')) {
      if (ve - vs < 1 || ve - vs > 15) return null;
      for (let i = vs; i < ve; i++) if (!digit(src[i]!)) return null;
      if (clStart >= 0 && src.compare(src, vs, ve, clStart, clEnd) !== 0) return null;
      clStart = vs;
      clEnd = ve;
    } else if (nameIs(src, at, colon, 'transfer-encoding')) {
      const v = src.toString('latin1', vs, ve);
      te = te === undefined ? v : `${te}, ${v}`;
    } else if (nameIs(src, at, colon, 'connection')) {
      const v = src.toString('latin1', vs, ve);
      connection = connection === undefined ? v : `${connection}, ${v}`;
    } else if (nameIs(src, at, colon, 'keep-alive')) {
      keepAliveMs = keepAliveTimeoutMs(src, vs, ve);
    }
    if (4 * n + 4 > fields.length) { const grown = new Int32Array(fields.length * 2); grown.set(fields); fields = fieldScratch = grown; }
    fields[4 * n] = at; fields[4 * n + 1] = colon; fields[4 * n + 2] = vs; fields[4 * n + 3] = ve;
    n++;
  }
  const listed = listedOf(connection);
  const close = minor === 48 ? !listed.includes('keep-alive') : listed.includes('close');
  let contentLength = -1;
  if (clStart >= 0) { contentLength = 0; for (let i = clStart; i < clEnd; i++) contentLength = contentLength * 10 + (src[i]! - 48); }
  // A message framed by both is suspect: never reuse that connection.
  return { status, reason, framing: framingOf(method, status, te, contentLength), close: close || (te !== undefined && clStart >= 0), connectionListed: listed, keepAliveMs, fieldsSize, src, fields, count: n };
}

const TIMEOUT = 'timeout';
/** `timeout=N` in a Keep-Alive value src[s, e) (RFC 2068 §19.7.1.1), in ms; -1 without one. No strings: node sends it on every response. */
function keepAliveTimeoutMs(src: Buffer, s: number, e: number): number {
  for (let i = s; i + TIMEOUT.length < e; i++) {
    if (lower(src[i]!) !== 116 || !nameIs(src, i, i + TIMEOUT.length, TIMEOUT)) continue;
    let j = i + TIMEOUT.length;
    while (j < e && src[j] === 32) j++;
    if (src[j] !== 61) continue;
    j++;
    while (j < e && src[j] === 32) j++;
    let secs = 0;
    const d0 = j;
    for (; j < e && digit(src[j]!) && j - d0 < 9; j++) secs = secs * 10 + (src[j]! - 48);
    return j > d0 ? secs * 1000 : -1;
  }
  return -1;
}

/** The Connection header's tokens, lower-cased; the two values every app sends cost nothing. */
function listedOf(connection: string | undefined): readonly string[] {
  if (connection === undefined || connection === '') return NOTHING;
  const v = connection.toLowerCase();
  if (v === 'keep-alive') return KEEP_ALIVE;
  if (v === 'close') return CLOSE;
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}
