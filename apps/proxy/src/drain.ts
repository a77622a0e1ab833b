// How a proxy stops (server.ts close(): SIGTERM, a reload's old workers, a handover): stop
// accepting, let in-flight requests finish, and only cut what is still running at the drain
// timeout, each cut request logged (drain-cut.ts). Node's server.close() alone also cuts idle
// keep-alive sockets at once, racing clients that are just sending their next request on them
// (ECONNRESET); instead every request gets `Connection: close` for a short grace first.
import type http from 'node:http';
import type { Config } from '@dreamnet/core';
import type { Logger } from 'pino';
import type { ProxyContext } from './context.js';
import type { HandedOff } from './drain-cut.js';
import type { ClientConnection } from './fast/connection.js';
import type { UpstreamPool } from './fast/pool.js';
import type { TlsListener } from './https.js';
import type { RoutesSource } from './routes/source.js';

/** How long a closing proxy keeps idle keep-alive connections for a last `Connection: close` answer. */
const KEEP_ALIVE_GRACE_MS = 1000;

export interface Serving {
  ctx: ProxyContext;
  config: Config;
  server: http.Server;
  tlsListener: TlsListener | null;
  fastConns: Set<ClientConnection>;
  handedOff: HandedOff;
  routes: RoutesSource;
  upstream: { close(): Promise<void> };
  pool: UpstreamPool;
  log: Logger;
}

export async function stopServing(o: Serving): Promise<void> {
  const { ctx, config, server, fastConns } = o;
  ctx.draining = true;
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {};
  const closed = Promise.all([
    new Promise<void>((r) => server.close(() => r())),
    o.tlsListener?.close(config.drainTimeoutMs),
  ]);
  // WebSockets never "finish": they get a Close frame (1001 going away), and clients reconnect
  // to whoever serves next.
  for (const u of ctx.upgraded.values()) u.end();
  await new Promise((r) => setTimeout(r, Math.min(KEEP_ALIVE_GRACE_MS, config.drainTimeoutMs)));
  server.closeIdleConnections = closeIdle;
  // Let in-flight requests finish, closing connections as they go idle; cut the rest after the
  // drain timeout.
  const closeIdleFast = () => { for (const c of fastConns) if (c.idle) c.end(); };
  closeIdleFast();
  const idle = setInterval(() => { server.closeIdleConnections(); closeIdleFast(); }, 50);
  // Each request cut is logged: 504 before the app answered, else its status (drain-cut.ts).
  const cut = setTimeout(() => {
    o.handedOff.cutAll();
    server.closeAllConnections();
    for (const c of fastConns) c.cut();
  }, config.drainTimeoutMs);
  await closed;
  clearInterval(idle);
  clearTimeout(cut);
  await o.routes.close();
  await o.upstream.close();
  o.pool.close();
  ctx.fdLimit.close();
  o.log.info('proxy closed');
}
