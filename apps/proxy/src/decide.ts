// What happens to a request before any forwarding, for every listener and parser (node:http,
// HTTP/2, the fast path): the proxy's health answer, Host/target checks, port 80's own answers
// (ACME HTTP-01, redirect to HTTPS), the route lookup and its "no app"/"no replica" pages.
// WebSocket/Upgrade requests pass `redirect: false`: a client cannot follow a redirect mid-handshake,
// and WebSockets must keep working over plain HTTP once an app has a certificate.
// A host not found before the proxy has had any table (routes/first-table.ts) is decided `later`,
// once the first table came or the wait ran out; the proxy's own answers above never wait.
// A declared body length over the app's limit or DREAM_PROXY_MAX_REQUEST_BODY (nginx's client_max_body_size) is
// refused here, for every path, before a byte of the body is read and before any 100 Continue.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyContext } from './context.js';
import { normalizeHost, requestTarget } from './host.js';
import { pages, type Page } from './pages.js';
import { plainHttpAnswer } from './plain-http.js';
import { bodyLimit } from './body-policy.js';
import type { Route } from './table.js';

export const HEALTH_PATH = '/__dream/healthz';

export type Decided =
  /** `unread`: the request's body is not to be read (over the limit): the connection closes after the page. */
  | { page: Page; later?: undefined; unread?: boolean }
  | { page?: undefined; later?: undefined; route: Route; host: string; rawHost: string; path: string };
/** `later`, before the first table: waits for it, then the decision, or 503 ROUTES_NOT_LOADED.
 *  A function, so a caller that hands the request elsewhere (the fast path) starts no wait. */
export type Decision = Decided | { page?: undefined; later: () => Promise<Decided> };

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
  if (!route) {
    // Once there has been a table this is one boolean; before it, a real app's host would get a 404.
    if (!ctx.firstTable.loaded) return { later: () => afterFirstTable(ctx, () => decide(ctx, method, url, hostHeader, proto, headers, requestId, o), requestId, headers) };
    return { page: pages.noRoute(host, requestId, headers) };
  }
  if (route.endpoints.length === 0) return { page: pages.noReplica(route.app, requestId, headers) };
  // A body without a length is counted as it comes (request-buffer.ts, upload-body.ts).
  const length = headers['content-length'];
  const max = bodyLimit(ctx, route);
  if (length !== undefined && Number(length) > max) return { page: pages.bodyTooLarge(max, requestId, headers), unread: true };
  return { route, host, rawHost, path: target.path };
}

/** `again` once the first table came; 503 ROUTES_NOT_LOADED when none came within the wait. */
async function afterFirstTable(ctx: ProxyContext, again: () => Decision, requestId: string, headers: IncomingHttpHeaders): Promise<Decided> {
  const d = (await ctx.firstTable.wait()) ? again() : null;
  // With a table loaded, decide() never answers `later` again.
  return d && !d.later ? d : { page: pages.routesNotLoaded(requestId, headers) };
}
