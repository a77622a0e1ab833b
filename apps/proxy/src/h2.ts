// What an HTTP/2 stream needs beyond what HTTP/1.1 requests get in forward.ts: which host it names
// (:authority, RFC 9113 §8.3.1), node's HTTP/2 limits set so that the proxy's own (head-limits.ts)
// decide, and response fields made fit for node's HTTP/2 API. Pure.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { MAX_REQUEST_HEAD, MAX_RESPONSE_FIELDS } from './head-limits.js';
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

// node:http2 resets a stream past 128 fields (maxHeaderListPairs, pseudo-header fields included) or
// a 64 KB header list, which counts 32 bytes per field on top of name and value (RFC 9113 §6.5.2),
// while the proxy's limit is MAX_REQUEST_HEAD as head-limits.ts counts it (forward.ts answers 431
// past it). So no request within that limit may reach node's: every field counts at least 5 there
// (a one-letter name, no value: `a: ` CRLF), and the request line (:method, :path) at least 14, so
// a request within it has at most (MAX - 14) / 5 fields besides :method, :path, :scheme and
// :authority; and its header list at most MAX, 32 a field, and what the limit does not count: the
// pseudo-header names and :scheme's value (64 covers them).
const H2_MAX_FIELDS = Math.floor((MAX_REQUEST_HEAD - 14) / 5) + 4;
export const H2_HEADER_LIMITS = {
  maxHeaderListPairs: H2_MAX_FIELDS,
  maxHeaderListSize: MAX_REQUEST_HEAD + 64 + 32 * H2_MAX_FIELDS,
  // Responses: node resets a stream whose header block may compress to over 64 KB, as nghttp2
  // bounds it (nghttp2_hd_deflate_bound: 12 + name + value + 12 a field). A field counts name +
  // value + 4 in the proxy's limit on an app's response fields (head-limits.ts), so 3 times that
  // limit, and room for :status and the X-Request-Id the proxy adds, let every response within it out.
  maxSendHeaderBlockLength: 3 * MAX_RESPONSE_FIELDS + 1024,
} as const;

/**
 * Requests one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS), as
 * nginx's http2_max_concurrent_streams. node's default is 2^32-1: one client connection became as
 * many app connections as it liked (2 000 streams → 2 000 requests in the app at once), where an
 * HTTP/1.1 connection is one at a time. A client queues the rest; nghttp2 refuses streams past it.
 */
export const H2_MAX_CONCURRENT_STREAMS = 128;

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
