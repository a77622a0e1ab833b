// What happens to a request before any forwarding, for every listener and parser (node:http,
// HTTP/2, the fast path): the proxy's health answer, Host/target checks, port 80's own answers
// (ACME HTTP-01, redirect to HTTPS), the route lookup and its "no app"/"no replica" pages.
// WebSocket/Upgrade requests pass `redirect: false`: a client cannot follow a redirect mid-handshake,
// and WebSockets must keep working over plain HTTP once an app has a certificate.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyContext } from './context.js';
import { normalizeHost, requestTarget } from './host.js';
import { pages, type Page } from './pages.js';
import { plainHttpAnswer } from './plain-http.js';
import type { Route } from './table.js';

export const HEALTH_PATH = '/__dream/healthz';

export type Decision =
  | { page: Page }
  | { page?: undefined; route: Route; host: string; rawHost: string; path: string };

export function decide(ctx: ProxyContext, method: string, url: string | undefined, hostHeader: string | undefined, proto: 'http' | 'https', headers: IncomingHttpHeaders, requestId: string, o: { redirect?: boolean } = {}): Decision {
  if (url === HEALTH_PATH && (method === 'GET' || method === 'HEAD')) {
    const body = JSON.stringify({ status: 'ok', routesVersion: ctx.table().version }) + '\n';
    return { page: { status: 200, body, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' } } };
  }
  const target = requestTarget(url, hostHeader);
  const rawHost = target?.host ?? '';
  const host = normalizeHost(rawHost);
  if (target === null || host === null) return { page: pages.badHost(requestId, headers) };
  if (proto === 'http') {
    // An HTTPS port of 0 tells plainHttpAnswer not to redirect (ACME answers stay).
    const own = plainHttpAnswer(ctx.certs, o.redirect === false ? 0 : ctx.httpsPort, host, target.path, method, requestId);
    if (own) return { page: own };
  }
  const route = ctx.table().get(host);
  if (!route) return { page: pages.noRoute(host, requestId, headers) };
  if (route.endpoints.length === 0) return { page: pages.noReplica(route.app, requestId, headers) };
  return { route, host, rawHost, path: target.path };
}
