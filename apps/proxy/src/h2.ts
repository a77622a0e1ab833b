// What an HTTP/2 stream needs beyond what HTTP/1.1 requests get in forward.ts: which host it names
// (:authority, RFC 9113 §8.3.1), the proxy's 16 KB header limit (node's HTTP/2 server lets 64 KB
// through), and response fields made fit for node's HTTP/2 API. Pure.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { MAX_HEAD } from './fast/head.js';
import { normalizeHost } from './host.js';

/**
 * The host an HTTP/2 request names: `:authority`, or `Host` when there is no `:authority`.
 * Undefined (→ 400) when both are present and name different hosts: RFC 9113 §8.3.1 says to treat
 * that as malformed, and routing by one while the app reads the other would let a client reach
 * one app under another's name.
 */
export function h2Authority(headers: IncomingHttpHeaders): string | undefined {
  const authority = headers[':authority'] as string | undefined;
  const host = headers.host;
  if (authority === undefined) return host;
  if (host !== undefined && normalizeHost(host) !== normalizeHost(authority)) return undefined;
  return authority;
}


// node:http2 resets a stream past 128 fields (maxHeaderListPairs) or a 64 KB header list, which
// counts 32 bytes per field on top of name and value (RFC 9113 §6.5.2), while HTTP/1.1 requests are
// limited by size alone (the fast path takes any number of fields within MAX_HEAD). So no header
// block h2HeadTooLarge lets through may reach node's limits: a field counts at least 5 there (a
// one-letter name, no value), and a block that is over them is over MAX_HEAD too.
const H2_MAX_FIELDS = Math.ceil(MAX_HEAD / 5) + 1;
export const H2_HEADER_LIMITS = { maxHeaderListPairs: H2_MAX_FIELDS, maxHeaderListSize: MAX_HEAD + 32 * H2_MAX_FIELDS } as const;

/** Whether the fields would make an HTTP/1.1 head over the limit (name + ": " + value + CRLF each). */
export function h2HeadTooLarge(rawHeaders: string[]): boolean {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i++) n += rawHeaders[i]!.length + 2;
  return n > MAX_HEAD;
}

/**
 * Whether node's HTTP/2 API takes this final status (it throws ERR_HTTP2_STATUS_INVALID outside
 * 200-599; 1xx never gets here). An HTTP/1.1 app may answer 600-999, which llhttp and undici accept.
 */
export function h2StatusValid(status: number): boolean {
  return status >= 200 && status <= 599;
}

// node's http2 throws ERR_HTTP2_HEADER_SINGLE_VALUE when one of these holds several values
// (kSingleValueHeaders in lib/internal/http2/util.js; pseudo-headers and set-cookie aside).
const SINGLE_VALUE = new Set([
  'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age', 'authorization',
  'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type',
  'date', 'dnt', 'etag', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'tk', 'upgrade-insecure-requests', 'user-agent', 'x-content-type-options',
]);

/**
 * An app's response fields for an HTTP/2 stream: a singleton field the app repeated keeps its first
 * value (as node:http's IncomingMessage keeps it), instead of node throwing and the client getting a
 * reset stream for a response the app sent fine. Connection-specific fields are already gone
 * (clientResponseHeaders). Changes `h` in place.
 */
export function h2ResponseHeaders(h: OutgoingHttpHeaders): OutgoingHttpHeaders {
  for (const k in h) {
    const v = h[k];
    if (Array.isArray(v) && SINGLE_VALUE.has(k)) h[k] = v[0];
  }
  return h;
}
