// Request/response header rewriting between client and upstream. Pure.
import crypto from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// RFC 9110 §7.6.1 connection-specific fields, plus the non-standard ones proxies also drop.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
// We trust no client-sent forwarding information (DESIGN §6); we set our own.
const CLIENT_FORWARDING = ['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip'];
const REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{8,128}$/;

function stripHopByHop(h: Record<string, unknown>, connection: string | string[] | undefined): void {
  const listed = (Array.isArray(connection) ? connection.join(',') : connection ?? '')
    .split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const k of [...HOP_BY_HOP, ...listed]) delete h[k];
}

/** Keeps a sane incoming X-Request-Id, else makes one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const v = headers['x-request-id'];
  return typeof v === 'string' && REQUEST_ID.test(v) ? v : crypto.randomUUID();
}

export interface ForwardInfo {
  clientIp: string;
  proto: 'http' | 'https';
  /** The host the client asked for (Host header, or the authority of an absolute-form target). */
  host: string;
  port: number;
  requestId: string;
  /** Set for a WebSocket/Upgrade request: the Upgrade header value to pass on. */
  upgrade?: string;
}

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, f: ForwardInfo): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = { ...incoming };
  stripHopByHop(h, incoming.connection);
  for (const k of CLIENT_FORWARDING) delete h[k];
  h.host = f.host;
  h['x-forwarded-for'] = f.clientIp;
  h['x-forwarded-proto'] = f.proto;
  h['x-forwarded-host'] = f.host;
  h['x-forwarded-port'] = String(f.port);
  h['x-request-id'] = f.requestId;
  if (f.upgrade) { h.connection = 'Upgrade'; h.upgrade = f.upgrade; }
  return h;
}

export function clientResponseHeaders(upstream: IncomingHttpHeaders, requestId: string): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = { ...upstream };
  stripHopByHop(h, upstream.connection);
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
