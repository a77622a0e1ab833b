// Request/response header rewriting between client and upstream. Pure.
import crypto from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// RFC 9110 §7.6.1 connection-specific fields, plus the non-standard ones proxies also drop, and
// HTTP/2's own (pseudo-headers start with ':' and are dropped separately).
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);
// Client-sent forwarding information is replaced by ours unless the peer is a trusted proxy (DESIGN §6).
const CLIENT_FORWARDING = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip']);
const REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{8,128}$/;
const REWRITTEN = new Set(['host', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded']);

/**
 * `x_forwarded_for`, `X-Real_IP`...: a client's underscore spelling of a field the proxy sets or
 * vets. CGI-style servers (PHP-FPM, WSGI, Rack) map `-` and `_` alike (HTTP_X_FORWARDED_FOR), so
 * it would reach the app beside ours, and which one wins is up to the server. Dropped always, a
 * trusted peer's too: no proxy sends these. Other fields with underscores pass (nginx drops them all).
 */
function underscoreAlias(k: string): boolean {
  if (k.indexOf('_') < 0) return false;
  const n = k.replace(/_/g, '-');
  return REWRITTEN.has(n) || CLIENT_FORWARDING.has(n);
}

function connectionListed(connection: string | string[] | undefined): Set<string> | null {
  if (connection === undefined) return null;
  const list = (Array.isArray(connection) ? connection.join(',') : connection).split(',');
  let out: Set<string> | null = null;
  for (const s of list) {
    const k = s.trim().toLowerCase();
    if (k && k !== 'keep-alive' && k !== 'close' && k !== 'upgrade') (out ??= new Set()).add(k);
  }
  return out;
}

/**
 * Copies `h` without hop-by-hop, pseudo and Connection-listed fields (one object, no deletes). For
 * a request (`forwarding` set) also without the client's forwarding fields ('all': not a trusted
 * peer) or only their underscore spellings ('aliases').
 */
function copyEndToEnd(h: Record<string, string | string[] | number | undefined>, skip: Set<string> | null, forwarding?: 'all' | 'aliases'): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const k in h) {
    if (k.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(k) || skip?.has(k)) continue;
    if (forwarding && ((forwarding === 'all' && CLIENT_FORWARDING.has(k)) || underscoreAlias(k))) continue;
    out[k] = h[k];
  }
  return out;
}

// 128 random bits per id, like nginx's $request_id, cut from a refilled pool: one flat 32-character
// string per request instead of randomUUID's formatting (measured: a twentieth of the fast path's
// allocations). Random, not a counter: the id is returned to clients and must not reveal volume.
const ID_POOL = Buffer.alloc(16 * 256);
let idOffset = ID_POOL.length;
function newRequestId(): string {
  if (idOffset === ID_POOL.length) { crypto.randomFillSync(ID_POOL); idOffset = 0; }
  idOffset += 16;
  return ID_POOL.toString('hex', idOffset - 16, idOffset);
}

/** Keeps a sane incoming X-Request-Id, else makes one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const v = headers['x-request-id'];
  return typeof v === 'string' && REQUEST_ID.test(v) ? v : newRequestId();
}

export interface ForwardInfo {
  clientIp: string;
  proto: 'http' | 'https';
  /** The host the client asked for (Host header, :authority, or the authority of an absolute-form target). */
  host: string;
  port: number;
  requestId: string;
  /** Set for a WebSocket/Upgrade request: the Upgrade header value to pass on. */
  upgrade?: string;
  /** The peer is a trusted proxy: keep its X-Forwarded-* (appending the peer to X-Forwarded-For). */
  trusted?: boolean;
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** X-Forwarded-For/Proto/Host/Port for the upstream: ours, or a trusted peer's extended with ours. */
function forwarded(incoming: IncomingHttpHeaders, f: ForwardInfo): [string, string, string, string] {
  if (!f.trusted) return [f.clientIp, f.proto, f.host, String(f.port)];
  const xff = incoming['x-forwarded-for'];
  const proto = first(incoming['x-forwarded-proto']);
  return [
    xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${f.clientIp}` : f.clientIp,
    proto === 'http' || proto === 'https' ? proto : f.proto,
    first(incoming['x-forwarded-host']) ?? f.host,
    first(incoming['x-forwarded-port']) ?? String(f.port),
  ];
}

/**
 * A trusted peer's RFC 7239 `Forwarded` with our hop appended (for = that peer, host and proto as
 * it asked us), as its X-Forwarded-For gets the peer: passed on as it came, the app's view of the
 * chain lacked the last hop. None is made up when the peer sent none: an app reading `Forwarded`
 * first would see the peer as the client. An untrusted client's is dropped (copyEndToEnd).
 */
function forwardedChain(incoming: IncomingHttpHeaders, f: ForwardInfo): string | undefined {
  const v = incoming.forwarded;
  if (!f.trusted || v === undefined) return undefined;
  const node = f.clientIp.includes(':') ? `"[${f.clientIp}]"` : f.clientIp;
  const host = /^[A-Za-z0-9.-]+$/.test(f.host) ? f.host : `"${f.host.replace(/["\\]/g, '')}"`;
  return `${Array.isArray(v) ? v.join(', ') : v}, for=${node};host=${host};proto=${f.proto}`;
}

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, f: ForwardInfo): OutgoingHttpHeaders {
  const h = copyEndToEnd(incoming, connectionListed(incoming.connection), f.trusted ? 'aliases' : 'all');
  h.host = f.host;
  const chain = forwardedChain(incoming, f);
  if (chain !== undefined) h.forwarded = chain;
  [h['x-forwarded-for'], h['x-forwarded-proto'], h['x-forwarded-host'], h['x-forwarded-port']] = forwarded(incoming, f);
  h['x-request-id'] = f.requestId;
  if (f.upgrade) { h.connection = 'Upgrade'; h.upgrade = f.upgrade; }
  return h;
}

/**
 * The upstream request head of the fast path, written in one pass: the same fields as
 * upstreamRequestHeaders (no intermediate object), Host first, ours last. Values were validated
 * by the strict parser (no CR/LF) or are ours.
 */
export function upstreamRequestHead(method: string, path: string, incoming: IncomingHttpHeaders, f: ForwardInfo): string {
  const skip = connectionListed(incoming.connection);
  let out = `${method} ${path} HTTP/1.1\r\nhost: ${f.host}\r\n`;
  for (const k in incoming) {
    if (REWRITTEN.has(k) || HOP_BY_HOP.has(k) || skip?.has(k) || (!f.trusted && CLIENT_FORWARDING.has(k)) || underscoreAlias(k)) continue;
    const v = incoming[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) out += `${k}: ${one}\r\n`;
    else out += `${k}: ${v}\r\n`;
  }
  const chain = forwardedChain(incoming, f);
  if (chain !== undefined) out += `forwarded: ${chain}\r\n`;
  const [xff, proto, host, port] = forwarded(incoming, f);
  return `${out}x-forwarded-for: ${xff}\r\nx-forwarded-proto: ${proto}\r\nx-forwarded-host: ${host}\r\nx-forwarded-port: ${port}\r\nx-request-id: ${f.requestId}\r\n\r\n`;
}

export function clientResponseHeaders(upstream: IncomingHttpHeaders, requestId: string): OutgoingHttpHeaders {
  const h = copyEndToEnd(upstream, connectionListed(upstream.connection));
  h['x-request-id'] ??= requestId;
  return h;
}

/** Raw header block for writing a response straight onto a socket (upgrade paths). */
export function rawHeaderLines(headers: OutgoingHttpHeaders): string {
  let out = '';
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out += `${k}: ${String(one).replace(/[\r\n]/g, '')}\r\n`;
  }
  return out;
}
