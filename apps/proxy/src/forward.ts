// Ordinary HTTP requests: Host → app → endpoint, streamed both ways, retried on another endpoint
// when the connection failed before any response byte.
import http from 'node:http';
import { clientIp, isConnectFailure, listenPortOf, protoOf, watchConnect, type ProxyContext } from './context.js';
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js';
import { normalizeHost } from './host.js';
import { pages, type Page } from './pages.js';
import { endpointKey } from './table.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const MAX_ATTEMPTS = 4;
export const HEALTH_PATH = '/__dream/healthz';

function send(res: http.ServerResponse, p: Page): void {
  if (res.headersSent) { res.destroy(); return; }
  res.writeHead(p.status, p.headers);
  res.end(res.req.method === 'HEAD' ? undefined : p.body);
}

function hasBody(req: http.IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

export function handleRequest(ctx: ProxyContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const requestId = requestIdOf(req.headers);
  if (req.url === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
    const body = JSON.stringify({ status: 'ok', routesVersion: ctx.table().version }) + '\n';
    send(res, { status: 200, body, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' } });
    return;
  }
  const rawHost = req.headers.host ?? '';
  const host = normalizeHost(rawHost);
  if (host === null) return send(res, pages.badHost(requestId, req.headers));
  const first = ctx.table().lookup(host);
  if (!first) return send(res, pages.noRoute(host, requestId, req.headers));
  if (first.endpoints.length === 0) return send(res, pages.noReplica(first.app, requestId, req.headers));

  const headers = upstreamRequestHeaders(req.headers, { clientIp: clientIp(req), proto: protoOf(req), host: rawHost, port: listenPortOf(req), requestId });
  const withBody = hasBody(req);
  const tried = new Set<string>();
  let release = () => {};
  let attempts = 0;
  let upstream: http.ClientRequest | null = null;
  res.on('close', () => {
    // Client gone (or response done): stop the upstream work and end the in-flight count.
    if (!res.writableFinished) upstream?.destroy();
    release();
  });

  const attempt = (): void => {
    attempts++;
    // Re-read the table: a retry must not go to an endpoint a newer version removed.
    const table = ctx.table();
    const route = table.lookup(host);
    if (!route || route.endpoints.length === 0) return send(res, tried.size ? pages.upstreamFailed(first.app, requestId, req.headers) : pages.noReplica(first.app, requestId, req.headers));
    const ep = table.pick(route, ctx.endpoints.isDown, tried);
    if (!ep) return send(res, pages.upstreamFailed(route.app, requestId, req.headers));
    const key = endpointKey(ep);
    release = ctx.endpoints.acquire(key);
    let bodyStarted = false;
    let responded = false;
    const up = http.request({ host: ep.host, port: ep.port, method: req.method, path: req.url, headers, agent: ctx.agent });
    upstream = up;
    // The body is only read once the connection is up, so a refused connect can still be retried.
    watchConnect(up, ctx.connectTimeoutMs, () => {
      if (withBody) { bodyStarted = true; req.pipe(up); } else up.end();
    });
    up.on('response', (upRes) => {
      responded = true;
      if (res.destroyed) { upRes.destroy(); return; }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, clientResponseHeaders(upRes.headers, requestId));
      upRes.pipe(res);
      // Upstream died mid-body: the client must see a broken response, not a short "complete" one.
      upRes.on('aborted', () => res.destroy());
      upRes.on('error', () => res.destroy());
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (upstream !== up || res.destroyed || res.writableFinished) return;
      if (responded || res.headersSent) { res.destroy(); return; }
      release();
      const connectFailed = isConnectFailure(err);
      // A keep-alive socket the upstream closed just as we reused it: not the endpoint's fault.
      const stale = err.code === 'ECONNRESET' && up.reusedSocket;
      if (connectFailed) ctx.endpoints.markDown(key);
      if (!stale) tried.add(key);
      const retry = !bodyStarted && attempts < MAX_ATTEMPTS && (connectFailed || (IDEMPOTENT.has(req.method ?? '') && !withBody));
      ctx.log.warn({ requestId, app: route.app, endpoint: key, err: err.code ?? err.message, retry }, 'upstream request failed');
      if (retry) return attempt();
      send(res, pages.upstreamFailed(route.app, requestId, req.headers));
    });
  };
  attempt();
}
