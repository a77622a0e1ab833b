// What the request and upgrade handlers share. Kept protocol-neutral so a TLS listener can reuse
// the same handlers beside the plain HTTP one.
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { clientAddress } from '@dreamnet/core';
import type { AccessLog } from './access-log.js';
import type { EndpointState } from './endpoints.js';
import type { FdLimit } from './fd-limit.js';
import type { LazyDispatcher } from './lazy-agent.js';
import type { RequestBufferSettings } from './request-buffer.js';
import type { FirstTable } from './routes/first-table.js';
import type { CertificateSource } from './tls/types.js';
import type { RouteTable } from './table.js';
import type { TrustCheck } from './trust.js';

/** A relayed upgrade (WebSocket): where it was routed, and how to end it (idempotent). */
export interface Upgraded {
  /** The normalised host it was opened for. */
  host: string;
  app: string;
  /** Set once end() ran. */
  ending: boolean;
  /** WebSocket: a Close frame, 1001 going away, to both ends (ws-going-away.ts); other protocols: cut. */
  end(): void;
}

export interface ProxyContext {
  table(): RouteTable;
  /** Whether there has been a table yet; a request for a host not found waits for the first (first-table.ts). */
  firstTable: FirstTable;
  endpoints: EndpointState;
  /**
   * Keep-alive pools (undici) for the requests node:http and HTTP/2 carry (the fast path has its own);
   * loaded on the first such request, so a proxy serving only HTTP/1.1 never loads undici.
   */
  upstream: LazyDispatcher;
  log: Logger;
  connectTimeoutMs: number;
  /** How long a client may send none of a request body still due (nginx's client_body_timeout; upload-body.ts). */
  bodyTimeoutMs: number;
  /**
   * Request bodies are read whole before the app is asked (request-buffer.ts), with these settings,
   * unless `requestBuffering` (DREAM_PROXY_REQUEST_BUFFERING) is off; an app's route may say otherwise.
   */
  requestBuffering: boolean;
  requestBuffer: RequestBufferSettings;
  /** The largest request body passed to an app (DREAM_PROXY_MAX_REQUEST_BODY), unless its route says; 0 = no limit. */
  maxRequestBody: number;
  /**
   * Upgraded (WebSocket) client sockets → the host and app they were opened for and what ends them:
   * when the proxy stops, and when a new route table no longer routes that host to that app.
   */
  upgraded: Map<Socket, Upgraded>;
  /** HTTP-01 answers and "has a certificate" (→ redirect to HTTPS) on the plain listener. */
  certs: CertificateSource;
  /** The HTTPS port redirects point at; 0 when there is no HTTPS listener (no redirects). */
  httpsPort: number;
  /** Peers whose X-Forwarded-* are believed. */
  trusted: TrustCheck;
  /** One entry per finished request, or null when the access log is off (nothing is measured). */
  access: AccessLog | null;
  /** This process at its open-files limit: told of upstream connects failing for lack of descriptors. */
  fdLimit: FdLimit;
  /** Set while closing: responses say `Connection: close`, so keep-alive clients leave cleanly. */
  draining?: boolean;
}

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ECONNECT_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** True when the TCP connection never came up: nothing was sent, any request may be retried. */
export function isConnectFailure(err: unknown): boolean {
  return CONNECT_FAILURES.has((err as NodeJS.ErrnoException)?.code ?? '');
}

/**
 * Fails a request whose socket has not connected within `ms` (a removed container's address can
 * blackhole SYNs for a long time) and calls `onConnect` once it is connected.
 */
export function watchConnect(req: http.ClientRequest, ms: number, onConnect: () => void): void {
  req.once('socket', (s: Socket) => {
    if (!s.connecting) { onConnect(); return; }
    const t = setTimeout(() => {
      req.destroy(Object.assign(new Error(`connect timed out after ${ms}ms`), { code: 'ECONNECT_TIMEOUT' }));
    }, ms);
    s.once('connect', () => { clearTimeout(t); onConnect(); });
    s.once('close', () => clearTimeout(t));
  });
}

/**
 * The client's address as apps get it (X-Forwarded-For) and trust is checked: an IPv4 client of a
 * dual-stack listener (::ffff:192.0.2.1) as plain IPv4, and a link-local IPv6 client without the
 * zone node appends (fe80::1%eth0 names the proxy's own interface: nothing an app can use, and Go's
 * net.ParseIP, RFC 7239's grammar and nginx's and Caddy's X-Forwarded-For have none).
 */
export function clientIp(req: Pick<http.IncomingMessage, 'socket'>): string {
  return clientAddress(req.socket.remoteAddress ?? '');
}

export function protoOf(req: Pick<http.IncomingMessage, 'socket'>): 'http' | 'https' {
  return (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
}

export function listenPortOf(req: Pick<http.IncomingMessage, 'socket'>): number {
  return req.socket.localPort ?? 0;
}
