// startProxy: the plain HTTP listener, the HTTPS listener (HTTP/2 + HTTP/1.1, SNI), the upstream
// pools and the routes source wired together. Both listeners share one ProxyContext.
import http from 'node:http';
import net from 'node:net';
import type { Config } from '@dreamnet/core';
import { pino, type Logger } from 'pino';
import type { AccessLog } from './access-log.js';
import type { ProxyContext, Upgraded } from './context.js';
import { watchAcceptErrors } from './accept-errors.js';
import { clientErrorHandler } from './client-error.js';
import { HandedOff } from './drain-cut.js';
import { stopServing } from './drain.js';
import { EndpointState } from './endpoints.js';
import type { ClientConnection } from './fast/connection.js';
import { BODY_TIMEOUT_MS, SEND_TIMEOUT_MS } from './fast/connection-end.js';
import { takeOverConnections } from './fast/listen.js';
import { FdLimit } from './fd-limit.js';
import { UpstreamPool } from './fast/pool.js';
import { handleRequest } from './forward.js';
import { applyRequestParserLimits, RESPONSE_HEAD_READ_BOUND } from './head-limits.js';
import { lazyAgent } from './lazy-agent.js';
import { LearnedIdleTimeouts } from './learned-idle.js';
import { H2_IDLE_MS } from './h2-idle.js';
import { createTlsListener, type TlsListener } from './https.js';
import { followRouteChanges } from './routes/effects.js';
import { FIRST_TABLE_WAIT_MS, FirstTable } from './routes/first-table.js';
import { RoutesSource } from './routes/source.js';
import type { RouteTable } from './table.js';
import { NO_CERTIFICATES, type CertificateSource } from './tls/types.js';
import { trustedProxies } from './trust.js';
import { handleUpgrade } from './upgrade.js';
import { PassedSockets } from './handover/passed-sockets.js';
import { requestBufferOf } from './request-buffer.js';

export interface StartProxyOptions {
  config: Config;
  token: string;
  log?: Logger;
  /** Defaults to config.httpPort; 0 picks a free port (tests). */
  port?: number;
  host?: string;
  /** The api's long-poll hold, in seconds (the contract's `wait`). */
  pollWaitSeconds?: number;
  /** This proxy's id towards the api (default: random per process, see newProxyId()). */
  proxyId?: string;
  /**
   * Certificates for the HTTPS listener, HTTP-01 answers and redirects. Without it there is no
   * HTTPS listener and plain HTTP is never redirected.
   */
  certs?: CertificateSource;
  /** HTTPS port: defaults to config.httpsPort (0 there = no HTTPS); here 0 picks a free port (tests), null = none. */
  httpsPort?: number | null;
  /** Where access-log entries go; null = off. Default: none (main.ts passes stdout when DREAM_ACCESS_LOG=on). */
  accessLog?: AccessLog | null;
  /**
   * Runs once everything is set up, just before the first bind: the handover asks a predecessor for
   * its listening sockets here (resolves with them, by port: listened on instead of binding) or to
   * release the ports (they are without a listener only for a round trip).
   */
  beforeListen?: () => Promise<ReadonlyMap<number, number> | void>;
  /** How long an HTTP/2 connection with no open stream stays open (default H2_IDLE_MS, 75 s). */
  h2IdleMs?: number;
  /** How long a request waits for the first route table when none was cached (default FIRST_TABLE_WAIT_MS, 10 s). */
  firstTableWaitMs?: number;
  /** How long a client may take none of its answer before it is cut, HTTP/2: its stream reset (default SEND_TIMEOUT_MS, 60 s). */
  sendTimeoutMs?: number;
  /** How long a client may send none of a request body still due before it is answered 408 and cut (default BODY_TIMEOUT_MS, 60 s). */
  bodyTimeoutMs?: number;
}

export interface ProxyHandle {
  url: string;
  port: number;
  /** Set when the HTTPS listener runs. */
  httpsPort: number | null;
  /** The table currently routed by. */
  readonly table: RouteTable;
  routes: RoutesSource;
  endpoints: EndpointState;
  /** Resolves once there is a table to serve (cache or api). */
  ready: Promise<void>;
  /** The listening servers (plain, then HTTPS when it runs): the handover stops and restarts them. */
  servers: net.Server[];
  /** Ports listening on a socket the predecessor passed (beforeListen), not bound. */
  passedPorts: number[];
  close(): Promise<void>;
}

export async function startProxy(opts: StartProxyOptions): Promise<ProxyHandle> {
  const { config } = opts;
  const log = opts.log ?? pino({ level: config.logLevel, name: 'proxy' });
  const endpoints = new EndpointState();
  const routes = new RoutesSource({
    apiUrl: config.apiUrl, token: opts.token, dataDir: config.dataDir, drainTimeoutMs: config.drainTimeoutMs,
    endpoints, log, waitSeconds: opts.pollWaitSeconds, proxyId: opts.proxyId,
  });
  // Keep-alive pools to upstreams. Idle sockets are dropped before node's usual 5 s server-side
  // idle timeout so we rarely reuse a socket the app is closing; no header/body timeouts, since
  // apps may long-poll or stream.
  const connectTimeoutMs = 5000;
  // maxHeaderSize: undici's own bound on a response head (forward.ts applies the proxy's limit).
  // Idle timeouts apps enforce without announcing them, learned by both pools (learned-idle.ts).
  const learnedIdle = new LearnedIdleTimeouts();
  const upstream = lazyAgent({ connectTimeoutMs, keepAliveTimeout: 4000, keepAliveMaxTimeout: 4000, headersTimeout: 0, bodyTimeout: 0, maxHeaderSize: RESPONSE_HEAD_READ_BOUND }, learnedIdle);
  const certs = opts.certs ?? NO_CERTIFICATES;
  const ctx: ProxyContext = {
    table: () => routes.table, firstTable: new FirstTable(routes, opts.firstTableWaitMs ?? FIRST_TABLE_WAIT_MS), endpoints, upstream, log, connectTimeoutMs, bodyTimeoutMs: opts.bodyTimeoutMs ?? BODY_TIMEOUT_MS, requestBuffering: config.proxyRequestBuffering !== 'off', requestBuffer: requestBufferOf(config), maxRequestBody: config.proxyMaxRequestBody, upgraded: new Map<net.Socket, Upgraded>(),
    certs, httpsPort: 0, trusted: trustedProxies(config.trustedProxies), access: opts.accessLog ?? null,
    fdLimit: new FdLimit(log),
  };
  followRouteChanges(routes, ctx);

  const server = http.createServer({ keepAlive: true }, (req, res) => handleRequest(ctx, req, res));
  server.on('checkContinue', (req, res) => handleRequest(ctx, req, res, true)); // Expect: 100-continue: forward.ts sends the 100
  applyRequestParserLimits(server);
  // The fast path (src/fast) serves plain HTTP/1.1 requests on raw sockets; node:http and undici
  // above take connections it hands off (upgrades, chunked uploads, HTTP/1.0…) and HTTP/2.
  const pool = new UpstreamPool({ connectTimeoutMs, idleMs: 4000, maxIdlePerEndpoint: 256 }, learnedIdle);
  const fastConns = new Set<ClientConnection>();
  const fast = { ctx, pool, conns: fastConns, keepAliveMs: server.keepAliveTimeout, headTimeoutMs: server.headersTimeout, sendTimeoutMs: opts.sendTimeoutMs ?? SEND_TIMEOUT_MS, bodyTimeoutMs: ctx.bodyTimeoutMs };
  // The connections the fast path hands to node:http, for the cut at the drain timeout (drain-cut.ts).
  const handedOff = new HandedOff();
  takeOverConnections(server, 'connection', { ...fast, proto: 'http' }, undefined, handedOff.add);
  // An upgraded connection is node's no more (closeAllConnections() spares it): close() ends it with
  // a Close frame, and the cut leaves it alone.
  server.on('upgrade', (req, socket, head) => { handedOff.forget(socket as net.Socket); handleUpgrade(ctx, req, socket, head); });
  server.on('clientError', clientErrorHandler(log));
  watchAcceptErrors(server, 'plain HTTP', log, ctx.fdLimit);

  const host = opts.host ?? config.httpHost;
  // Read the cached routes before accepting connections: a restarted proxy answers its first
  // requests from the last table, not with 404s while the api is asked. With no cache, requests
  // wait for the api's first table (routes/first-table.ts).
  routes.start();
  await routes.cacheLoaded;
  const passed = new PassedSockets(opts.beforeListen ? await opts.beforeListen().catch(async (e) => { await routes.close(); throw e; }) : undefined, host, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    passed.listen(server, opts.port ?? config.httpPort, () => { server.off('error', reject); resolve(); });
  }).catch(async (e) => { passed.closeRest(); await routes.close(); throw e; });
  let tlsListener: TlsListener | null = null;
  let httpsPort: number | null = null;
  const wantHttps = opts.httpsPort !== undefined ? opts.httpsPort : config.httpsPort === 0 ? null : config.httpsPort;
  if (opts.certs && opts.certs !== NO_CERTIFICATES && wantHttps !== null) {
    tlsListener = createTlsListener(ctx, { ...fast, proto: 'https' }, opts.h2IdleMs ?? H2_IDLE_MS);
    const l = tlsListener;
    watchAcceptErrors(l.server, 'HTTPS', log, ctx.fdLimit);
    try {
      await new Promise<void>((resolve, reject) => {
        l.server.once('error', reject);
        passed.listen(l.server, wantHttps, () => { l.server.off('error', reject); resolve(); });
      });
      httpsPort = (l.server.address() as { port: number }).port;
      // Redirects point here (none when DREAM_HTTPS_REDIRECT=off).
      if (config.httpsRedirect === 'on') ctx.httpsPort = httpsPort;
    } catch (e) {
      // Plain HTTP keeps working (and nothing is redirected) when the HTTPS port is taken or
      // privileged; the error says what to change.
      tlsListener = null;
      log.error({ err: (e as Error).message, port: wantHttps }, 'HTTPS listener could not start; serving plain HTTP only (set DREAM_HTTPS_PORT, 0 = off)');
    }
  }
  passed.closeRest();
  const port = (server.address() as { port: number }).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  log.info({ host, port, httpsPort, proxyId: routes.proxyId, apiUrl: config.apiUrl }, 'proxy listening');

  let closing: Promise<void> | null = null;
  const close = () => (closing ??= stopServing({ ctx, config, server, tlsListener, fastConns, handedOff, routes, upstream, pool, log }));

  return {
    url: `http://${shown}:${port}`,
    port,
    httpsPort,
    get table() { return routes.table; },
    routes,
    endpoints,
    ready: routes.ready,
    servers: tlsListener ? [server, tlsListener.server] : [server],
    passedPorts: passed.used,
    close,
  };
}
