// Ordinary HTTP requests: Host → app → endpoint, streamed both ways (undici to the upstream:
// measured ~1.5x node:http's client here, see bench/proxy), retried on another endpoint when the
// connection failed before any response byte.
import type http from 'node:http';
import type { Dispatcher } from 'undici';
import { clientIp, isConnectFailure, listenPortOf, protoOf, type ProxyContext } from './context.js';
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js';
import { normalizeHost, requestTarget } from './host.js';
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
  const target = requestTarget(req.url, req.headers.host);
  const rawHost = target?.host ?? '';
  const host = normalizeHost(rawHost);
  if (target === null || host === null) return send(res, pages.badHost(requestId, req.headers));
  const first = ctx.table().lookup(host);
  if (!first) return send(res, pages.noRoute(host, requestId, req.headers));
  if (first.endpoints.length === 0) return send(res, pages.noReplica(first.app, requestId, req.headers));

  const headers = upstreamRequestHeaders(req.headers, { clientIp: clientIp(req), proto: protoOf(req), host: rawHost, port: listenPortOf(req), requestId });
  // The client's Expect: 100-continue was answered by node's server already.
  delete headers.expect;
  const withBody = hasBody(req);
  const method = (req.method ?? 'GET') as Dispatcher.HttpMethod;
  const tried = new Set<string>();
  let release = () => {};
  let attempts = 0;
  let responded = false;
  const abort = new AbortController();
  res.on('close', () => {
    // Client gone (or response done): stop the upstream work and end the in-flight count.
    if (!res.writableFinished) abort.abort();
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
    // undici only starts reading the body once connected, so a refused connect leaves it unread.
    ctx.upstream.stream(
      { origin: `http://${key}`, path: target.path, method, headers: headers as Record<string, string | string[]>, body: withBody ? req : null, signal: abort.signal },
      ({ statusCode, headers: upHeaders }) => {
        responded = true;
        res.writeHead(statusCode, clientResponseHeaders(upHeaders as http.IncomingHttpHeaders, requestId));
        return res;
      },
    ).catch((err: NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }) => {
      if (res.destroyed || res.writableFinished) return;
      // Upstream died mid-body: the client must see a broken response, not a short "complete" one.
      if (responded || res.headersSent) { res.destroy(); return; }
      release();
      const connectFailed = isConnectFailure(err) || isConnectFailure(err.cause);
      if (connectFailed) ctx.endpoints.markDown(key);
      tried.add(key);
      const bodyTouched = withBody && (req.readableDidRead || req.readableEnded);
      const retry = !bodyTouched && attempts < MAX_ATTEMPTS && (connectFailed || (IDEMPOTENT.has(method) && !withBody));
      ctx.log.warn({ requestId, app: route.app, endpoint: key, err: err.code ?? err.message, retry }, 'upstream request failed');
      if (retry) return attempt();
      send(res, pages.upstreamFailed(route.app, requestId, req.headers));
    });
  };
  attempt();
}
