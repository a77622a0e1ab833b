// How big a message head may be, one rule for every request path (the fast path, node:http after a
// hand-off, HTTP/1.1 over TLS, HTTP/2), so that a request or response is refused or passed the same
// whichever way it came (README § Head limits; test/integration/proxy-head-limits.test.ts). Pure.
//
// A head is counted as HTTP/1.1 text in canonical form: `name: value` CRLF per field, the value
// without the whitespace around it. HTTP/2 has no such text and node's parsers count differently
// (target, names and values only, trailing whitespace included), so the limits are checked here, on
// parsed fields, and the parsers' own bounds are set to twice the limits: far enough that only a head
// padded with more whitespace than the limit itself reaches them first.

/** A request head: request line and header fields, each with its CRLF (the blank line not counted). */
export const MAX_REQUEST_HEAD = 16 * 1024;
/** A response head from an app: its header fields, each with its CRLF (the status line not counted). */
export const MAX_RESPONSE_FIELDS = 64 * 1024;
/** node:http's maxHeaderSize on the listeners (it counts target + names + values as sent). */
export const REQUEST_HEAD_READ_BOUND = 2 * MAX_REQUEST_HEAD;
/** What an upstream response head may take as read (fast path: raw bytes; undici, node's client: names + values). */
export const RESPONSE_HEAD_READ_BOUND = 2 * MAX_RESPONSE_FIELDS;

/** `v`'s length without leading and trailing spaces and tabs (RFC 9110 §5.5 OWS; undici keeps trailing ones). */
function owsTrimmedLength(v: string): number {
  let s = 0;
  let e = v.length;
  while (s < e && (v.charCodeAt(s) === 32 || v.charCodeAt(s) === 9)) s++;
  while (e > s && (v.charCodeAt(e - 1) === 32 || v.charCodeAt(e - 1) === 9)) e--;
  return e - s;
}

/**
 * The size of a request head by the rule: `METHOD target HTTP/1.1` CRLF, then each field. For
 * HTTP/2, `method` and `target` are :method and :path, `:authority` counts as a `host` field and
 * the other pseudo-header fields not at all, so a request is counted as the HTTP/1.1 request it
 * stands for. `rawHeaders` as node gives them: [name, value, …].
 */
export function requestHeadSize(method: string, target: string, rawHeaders: readonly string[]): number {
  let n = method.length + target.length + 12;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */ && name !== ':authority') continue;
    n += (name === ':authority' ? 4 : name.length) + owsTrimmedLength(rawHeaders[i + 1]!) + 4;
  }
  return n;
}

/** Whether a request node:http or node:http2 parsed is over MAX_REQUEST_HEAD (→ 431 HEADERS_TOO_LARGE). */
export function requestHeadTooLarge(req: { method?: string; url?: string; rawHeaders: string[] }): boolean {
  return requestHeadSize(req.method ?? '', req.url ?? '', req.rawHeaders) > MAX_REQUEST_HEAD;
}

/** The size of response header fields by the rule: [name, value, …] (node) or an object of them (undici). */
export function responseFieldsSize(fields: readonly string[] | Record<string, string | string[] | undefined>): number {
  let n = 0;
  if (Array.isArray(fields)) {
    for (let i = 0; i + 1 < fields.length; i += 2) n += fields[i]!.length + owsTrimmedLength(fields[i + 1]!) + 4;
    return n;
  }
  const obj = fields as Record<string, string | string[] | undefined>;
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) continue;
    if (typeof v === 'string') n += k.length + owsTrimmedLength(v) + 4;
    else for (const one of v) n += k.length + owsTrimmedLength(one) + 4;
  }
  return n;
}

/** What the proxy's 502 UPSTREAM_INVALID_RESPONSE names for a response head over the limit. */
export const RESPONSE_HEAD_TOO_LARGE = `a response head over ${MAX_RESPONSE_FIELDS / 1024} KB`;

/** undici's and node's codes for a response head past their read bound (RESPONSE_HEAD_READ_BOUND). */
export function isResponseHeadOverflow(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'HPE_HEADER_OVERFLOW';
}

/**
 * node:http's request parser on a listener: every field kept (its default keeps the first 1000 and
 * drops the rest without a word) and a size bound no head within MAX_REQUEST_HEAD reaches.
 */
export function applyRequestParserLimits(server: { maxHeaderSize?: number; maxHeadersCount: number | null }): void {
  server.maxHeaderSize = REQUEST_HEAD_READ_BOUND;
  server.maxHeadersCount = 0;
}
