// Strict HTTP/1.1 message heads for the fast path. Pure. Only the plain subset is accepted: a
// request outside it (HTTP/1.0, absolute-form, Transfer-Encoding, Upgrade, Expect, duplicate Host or
// Content-Length, obs-fold, odd bytes…) returns null and its connection is handed to node:http
// (llhttp), which serves or rejects it — so this parser never has to be lenient to be correct.

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

function addHeader(h: Headers, name: string, value: string): boolean {
  const prev = h[name];
  if (prev === undefined) { h[name] = value; return true; }
  if (name === 'host' || name === 'content-length') return false;
  h[name] = name === 'cookie' ? `${prev}; ${value}` : `${prev}, ${value}`;
  return true;
}

/** `head` is the text up to (not including) the blank line. */
export function parseRequestHead(head: string): RequestHead | null {
  const lines = head.split('\r\n');
  const start = lines[0]!;
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
    const value = line.slice(colon + 1).trim();
    if (!VALUE.test(value) || !addHeader(headers, name, value)) return null;
  }
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

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };
const NONE: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const UNTIL_CLOSE: Framing = { kind: 'close' };
const NOTHING_LISTED: string[] = [];

export interface ResponseHead {
  status: number;
  reason: string;
  /** Fields in arrival order as parallel arrays (no pair per field): names as sent, lower-cased, values. */
  names: string[];
  lower: string[];
  values: string[];
  framing: Framing;
  /** The upstream will close after this response (HTTP/1.0 or Connection: close). */
  close: boolean;
  /** Names listed in the upstream's Connection header (hop-by-hop for this message). */
  connectionListed: string[];
}

const digit = (c: number) => c >= 48 && c <= 57;

/** Parses an upstream's response head for a request with `method`; null = not valid HTTP/1.x. */
export function parseResponseHead(head: string, method: string): ResponseHead | null {
  const lines = head.split('\r\n');
  // "HTTP/1.x NNN reason", checked by hand: a regex match allocates an array of captures.
  const start = lines[0]!;
  const minor = start.charCodeAt(7);
  if (!start.startsWith('HTTP/1.') || (minor !== 48 && minor !== 49) || start.charCodeAt(8) !== 32
    || !digit(start.charCodeAt(9)) || !digit(start.charCodeAt(10)) || !digit(start.charCodeAt(11))
    || (start.length > 12 && start.charCodeAt(12) !== 32) || !VALUE.test(start)) return null;
  const status = (start.charCodeAt(9) - 48) * 100 + (start.charCodeAt(10) - 48) * 10 + (start.charCodeAt(11) - 48);
  const reason = start.length > 13 ? start.slice(13) : '';
  const names: string[] = [];
  const lower: string[] = [];
  const values: string[] = [];
  let te: string | undefined;
  let cl: string | undefined;
  let connection = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return null;
    const value = line.slice(colon + 1).trim();
    if (!VALUE.test(value)) return null;
    const low = name.toLowerCase();
    if (low === 'transfer-encoding') te = te === undefined ? value : `${te}, ${value}`;
    else if (low === 'content-length') {
      if (!DIGITS.test(value) || (cl !== undefined && cl !== value)) return null;
      cl = value;
    } else if (low === 'connection') connection = connection ? `${connection}, ${value}` : value;
    names.push(name);
    lower.push(low);
    values.push(value);
  }
  const listed = connection ? connection.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : NOTHING_LISTED;
  const close = minor === 48 ? !listed.includes('keep-alive') : listed.includes('close');
  let framing: Framing;
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) framing = NONE;
  // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3); not ending in chunked = until close.
  else if (te !== undefined) framing = /(?:^|,)\s*chunked\s*$/i.test(te) ? CHUNKED : UNTIL_CLOSE;
  else if (cl !== undefined) framing = { kind: 'length', length: Number(cl) };
  else framing = UNTIL_CLOSE;
  // A message framed by both is suspect: never reuse that connection.
  return { status, reason, names, lower, values, framing, close: close || (te !== undefined && cl !== undefined), connectionListed: listed };
}
