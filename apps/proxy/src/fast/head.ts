// Strict HTTP/1.1 message heads for the fast path. Pure. Only the plain subset is accepted: a
// request outside it (HTTP/1.0, absolute-form, Transfer-Encoding, Upgrade, Expect, a repeated field
// node would not join (NOT_JOINED), obs-fold, odd bytes…) returns null and its connection is handed to node:http
// (llhttp), which serves or rejects it — so this parser never has to be lenient to be correct.
// Response heads are read as bytes in response-head.ts; how a response body ends is framingOf().
import { MAX_REQUEST_HEAD } from '../head-limits.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, space, tab and obs-text; never CR, LF or NUL (RFC 9110 §5.5).
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^\/[\x21-\x7e]*$/;
const DIGITS = /^\d{1,15}$/;

export type Headers = Record<string, string | string[]>;

export interface RequestHead {
  method: string;
  /** Origin-form target (starts with "/"). */
  target: string;
  /** Lower-cased names, like node's IncomingMessage.headers (duplicates joined, cookies with "; "). */
  headers: Headers;
  contentLength: number;
  /** The client asked to close after this exchange. */
  close: boolean;
}

// Fields node's IncomingMessage keeps only the first of when repeated (its matchKnownFields), and
// set-cookie, which it keeps as an array. A request repeating one goes to node:http, so both paths
// forward the same head (test/integration/proxy-parity.test.ts) rather than the fast one joining
// two Authorization values into one neither client line had.
const NOT_JOINED: ReadonlySet<string> = new Set(['host', 'content-length', 'content-type', 'user-agent', 'referer', 'authorization',
  'proxy-authorization', 'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag',
  'last-modified', 'server', 'age', 'expires', 'set-cookie']);

function addHeader(h: Headers, name: string, value: string): boolean {
  const prev = h[name];
  // Values here are strings; anything else was inherited (a field named `constructor` or `toString`
  // would otherwise be joined onto Object's own), as node's IncomingMessage also guards against.
  if (typeof prev !== 'string') { h[name] = value; return true; }
  if (NOT_JOINED.has(name)) return false;
  h[name] = name === 'cookie' ? `${prev}; ${value}` : `${prev}, ${value}`;
  return true;
}

/**
 * The value of a field line whose colon is at `colon`, without the spaces and tabs around it (OWS,
 * RFC 9110 §5.6.3), as node:http trims values. Not String#trim: on latin1 text it also takes 0xA0,
 * the last byte of many UTF-8 characters (U+00A0, U+2020 †, U+4E20 丠), cutting them short.
 */
function valueOf(line: string, colon: number): string {
  let s = colon + 1;
  let e = line.length;
  while (s < e && (line.charCodeAt(s) === 32 || line.charCodeAt(s) === 9)) s++;
  while (e > s && (line.charCodeAt(e - 1) === 32 || line.charCodeAt(e - 1) === 9)) e--;
  return line.slice(s, e);
}

/**
 * `head` is the text up to (not including) the blank line. A head over MAX_REQUEST_HEAD as the
 * rule counts it (head-limits.ts: canonical `name: value` lines, which a head written `name:value`
 * exceeds in fewer bytes) is left to node:http too, where forward.ts answers 431.
 */
export function parseRequestHead(head: string): RequestHead | null {
  const lines = head.split('\r\n');
  const start = lines[0]!;
  let size = start.length + 2;
  const sp1 = start.indexOf(' ');
  const sp2 = start.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || start.slice(sp2 + 1) !== 'HTTP/1.1') return null;
  const method = start.slice(0, sp1);
  const target = start.slice(sp1 + 1, sp2);
  if (!TOKEN.test(method) || method === 'CONNECT' || !TARGET.test(target)) return null;
  const headers: Headers = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return null;
    const value = valueOf(line, colon);
    size += colon + value.length + 4;
    if (!VALUE.test(value) || !addHeader(headers, name, value)) return null;
  }
  if (size > MAX_REQUEST_HEAD) return null;
  if (typeof headers.host !== 'string' || headers['transfer-encoding'] !== undefined || headers.upgrade !== undefined || headers.expect !== undefined) return null;
  let contentLength = 0;
  const cl = headers['content-length'];
  if (cl !== undefined) {
    if (typeof cl !== 'string' || !DIGITS.test(cl)) return null;
    contentLength = Number(cl);
  }
  const conn = headers.connection;
  const close = typeof conn === 'string' && /(?:^|,)\s*close\s*(?:,|$)/i.test(conn);
  return { method, target, headers, contentLength, close };
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** headEnd(): the head has not all arrived yet. */
export const MORE = -1;
/** headEnd(): node:http must answer this one (too long, or bare LFs that never make CRLFCRLF). */
export const NOT_FAST = -2;

/**
 * Where the head at the start of `buf` ends (the index of its blank line), MORE or NOT_FAST. A head
 * longer than MAX_REQUEST_HEAD as sent goes to node:http, which counts it by the same rule (only
 * whitespace padding makes it longer than it counts). A head with a bare LF goes to node:http,
 * which answers 400 at once, rather than the client waiting out the head timeout for a CRLFCRLF
 * that never comes.
 */
export function headEnd(buf: Buffer): number {
  const end = buf.indexOf(CRLFCRLF);
  if (end >= 0) return end <= MAX_REQUEST_HEAD ? end : NOT_FAST;
  if (buf.length > MAX_REQUEST_HEAD) return NOT_FAST;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) if (i === 0 || buf[i - 1] !== 13) return NOT_FAST;
  return MORE;
}

/**
 * The request at the start of `buf`: its parsed head and the bytes after it (body, pipelined
 * requests); MORE when the head has not all arrived; null when node:http must take the connection.
 */
export function takeRequest(buf: Buffer): { head: RequestHead; rest: Buffer | null } | typeof MORE | null {
  const end = headEnd(buf);
  if (end === MORE) return MORE;
  const head = end === NOT_FAST ? null : parseRequestHead(buf.toString('latin1', 0, end));
  return head && { head, rest: buf.length > end + 4 ? buf.subarray(end + 4) : null };
}

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };
const NONE: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const UNTIL_CLOSE: Framing = { kind: 'close' };

/**
 * How a response's body ends (RFC 9112 §6.3): none for HEAD, 1xx, 204 and 304; Transfer-Encoding
 * wins over Content-Length (-1 = none sent), and one not ending in chunked means until close.
 */
export function framingOf(method: string, status: number, te: string | undefined, contentLength: number): Framing {
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) return NONE;
  if (te !== undefined) return /(?:^|,)\s*chunked\s*$/i.test(te) ? CHUNKED : UNTIL_CLOSE;
  if (contentLength >= 0) return { kind: 'length', length: contentLength };
  return UNTIL_CLOSE;
}
