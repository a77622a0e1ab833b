// What the request and upgrade handlers share. Kept protocol-neutral so a TLS listener can reuse
// the same handlers beside the plain HTTP one.
import type http from 'node:http';
import type { Dispatcher } from 'undici';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { EndpointState } from './endpoints.js';
import type { RouteTable } from './table.js';

export interface ProxyContext {
  table(): RouteTable;
  endpoints: EndpointState;
  /** Keep-alive pools (undici) for ordinary requests to upstreams; upgrades use node:http. */
  upstream: Dispatcher;
  log: Logger;
  connectTimeoutMs: number;
  /** Upgraded (WebSocket) client sockets, so close() can end them. */
  upgraded: Set<Socket>;
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

export function clientIp(req: http.IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export function protoOf(req: http.IncomingMessage): 'http' | 'https' {
  return (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
}

export function listenPortOf(req: http.IncomingMessage): number {
  return req.socket.localPort ?? 0;
}
