// WebSocket (and any other HTTP/1.1 Upgrade) pass-through: forward the upgrade request, relay the
// upstream's answer byte for byte, then pipe the two raw sockets together.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { accessEntry, askedOf } from './access-log.js';
import { clientIp, isConnectFailure, listenPortOf, protoOf, watchConnect, type ProxyContext, type Upgraded } from './context.js';
import { clientResponseHeaders, rawHeaderLines, requestIdOf, upstreamRequestHeaders } from './headers.js';
import { decide, type Decided } from './decide.js';
import { isResponseHeadOverflow, MAX_RESPONSE_FIELDS, requestHeadTooLarge, RESPONSE_HEAD_READ_BOUND, RESPONSE_HEAD_TOO_LARGE, responseFieldsSize } from './head-limits.js';
import { hostOf } from './host.js';
import { lingeringClose } from './fast/linger.js';
import { errorPage, pages, rawPage, type Page } from './pages.js';
import { afterFailedAttempt, isMalformedResponseHead, MALFORMED_RESPONSE_HEAD } from './retry.js';
import { tunnel } from './tunnel.js';
import { hasBody } from './upload-body.js';
import { goingAway } from './ws-going-away.js';

// Upgrade requests are GETs (RFC 6455): the page always carries its body, and the socket closes.
// Nothing read the client after its head, and it may still be sending (a body, early frames): left
// unread, its FIN would go unseen and the socket stay open, then be reset once cut.
function pageAndClose(socket: Duplex, p: Page): void {
  socket.write(rawPage(p, 'GET', true));
  lingeringClose(socket as Socket);
}

/** What the access-log entry of an upgrade says; written when the client's socket closes. */
interface Outcome { status: number; upstream: string }

/**
 * The upgrade's access-log entry, written once the client's connection closes — for a WebSocket
 * that is when it ends, with its whole time and bytes, as nginx logs one. Null when the log is off.
 * Before any answer the status is nginx's 499 (the client closed the request).
 */
function logWhenClosed(ctx: ProxyContext, req: http.IncomingMessage, socket: Duplex, requestId: string): Outcome | null {
  if (!ctx.access) return null;
  const asked = askedOf(req, requestId);
  const sock = socket as Socket;
  const written0 = sock.bytesWritten ?? 0;
  const outcome: Outcome = { status: 499, upstream: '-' };
  socket.once('close', () => ctx.access!(accessEntry(asked, ctx.trusted, outcome.status, (sock.bytesWritten ?? 0) - written0, outcome.upstream)));
  return outcome;
}

function statusBlock(res: http.IncomingMessage): string {
  let lines = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return lines + '\r\n';
}

export function handleUpgrade(ctx: ProxyContext, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const requestId = requestIdOf(req.headers);
  const logged = logWhenClosed(ctx, req, socket, requestId);
  const answered = (status: number, upstream = '-') => { if (logged) { logged.status = status; logged.upstream = upstream; } };
  const answerPage = (p: Page) => { answered(p.status); pageAndClose(socket, p); };
  // node's parser takes more than the proxy's limit (head-limits.ts), as for any other request.
  if (requestHeadTooLarge(req)) return answerPage(pages.headersTooLarge(requestId));
  // node's parser hands an upgrade with a body over as one (the body arrives as `head`): forwarded,
  // the app and the proxy could disagree on where the tunnel starts, so none is forwarded.
  if (hasBody(req)) {
    return answerPage(errorPage('BAD_REQUEST', 'An upgrade (WebSocket) request cannot carry a body.', requestId, req.headers));
  }
  // The same policy as every other request (health, Host checks, ACME answers, route lookup), but
  // no redirect to HTTPS: see decide.ts.
  const d = decide(ctx, req.method ?? 'GET', req.url, hostOf(req), protoOf(req), req.headers, requestId, { redirect: false });
  // Before the first route table (decide.ts): relayed once it came, unless the client left meanwhile.
  if (d.later) { void d.later().then((later) => { if (!socket.destroyed) relay(ctx, req, socket, head, later, requestId, answered, answerPage); }); return; }
  relay(ctx, req, socket, head, d, requestId, answered, answerPage);
}

/** The proxy's own page, or the upgrade relayed to the app `d` routes it to (another replica when refused). */
function relay(ctx: ProxyContext, req: http.IncomingMessage, socket: Duplex, head: Buffer, d: Decided, requestId: string, answered: (status: number, upstream?: string) => void, answerPage: (p: Page) => void): void {
  if (d.page) return answerPage(d.page);
  const { route: first, host, rawHost, path } = d;

  const peer = clientIp(req);
  const headers = upstreamRequestHeaders(req.headers, {
    clientIp: peer, proto: protoOf(req), host: rawHost, port: listenPortOf(req), requestId, trusted: ctx.trusted(peer),
    upgrade: String(req.headers.upgrade ?? 'websocket'),
  });
  const tried = new Set<string>();
  let attempts = 0;

  const attempt = (): void => {
    attempts++;
    const table = ctx.table();
    const route = table.get(host);
    const ep = route ? table.pick(route, ctx.endpoints.isDown, tried, ctx.endpoints.inFlight) : null;
    if (!route || !ep) return answerPage(pages.upstreamFailed(first.app, requestId, req.headers));
    const { key } = ep;
    const release = ctx.endpoints.acquire(key);
    // A fresh connection per upgrade: the socket leaves HTTP and must not return to a pool.
    // allowHalfOpen: the app's FIN ends only what it sends; the client may still be sending (tunnel.ts).
    // Every response field kept (node's client keeps 1000 by default) and read up to the bound of
    // head-limits.ts; the proxy's limit is checked below, as on the other paths.
    const up = http.request({ host: ep.host, port: ep.port, method: req.method, path, headers, agent: false, allowHalfOpen: true, maxHeaderSize: RESPONSE_HEAD_READ_BOUND } as http.RequestOptions);
    up.maxHeadersCount = 0;
    const refuseHead = (what = RESPONSE_HEAD_TOO_LARGE): void => {
      ctx.log.warn({ requestId, app: route.app, endpoint: key, err: what }, 'upstream sent a malformed response');
      answerPage(pages.invalidResponse(route.app, what, requestId, req.headers));
    };
    let settled = false;
    const onClientGone = () => { if (!settled) { settled = true; up.destroy(); release(); } };
    socket.once('close', onClientGone);
    watchConnect(up, ctx.connectTimeoutMs, () => up.end());

    up.on('upgrade', (upRes, upSocket: Socket, upHead: Buffer) => {
      settled = true;
      socket.off('close', onClientGone);
      if (socket.destroyed) { upSocket.destroy(); release(); return; }
      if (responseFieldsSize(upRes.rawHeaders) > MAX_RESPONSE_FIELDS) { upSocket.destroy(); release(); refuseHead(); return; }
      const client = socket as Socket;
      // A stopping proxy ends a WebSocket with a Close frame (ws-going-away.ts); other protocols
      // have no such frame and are cut.
      const isWs = String(upRes.headers.upgrade ?? '').toLowerCase() === 'websocket';
      const stop = isWs ? goingAway(client, upSocket, { toClient: upHead, toUpstream: head }) : () => { client.destroy(); upSocket.destroy(); };
      const entry: Upgraded = { host, app: route.app, ending: false, end: () => { if (!entry.ending) { entry.ending = true; stop(); } } };
      ctx.upgraded.set(client, entry);
      client.setNoDelay?.(true);
      upSocket.setNoDelay(true);
      answered(101, key);
      socket.write(statusBlock(upRes));
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      tunnel(socket, upSocket, () => { ctx.upgraded.delete(client); release(); });
    });
    // The upstream declined the upgrade (e.g. 400/404): relay its answer as-is.
    up.on('response', (upRes) => {
      settled = true;
      const client = socket as Socket;
      socket.off('close', onClientGone);
      if (responseFieldsSize(upRes.rawHeaders) > MAX_RESPONSE_FIELDS) { upRes.destroy(); release(); refuseHead(); return; }
      answered(upRes.statusCode ?? 502, key);
      // De-chunked by node, so re-framed as "read until close".
      const h = { ...clientResponseHeaders(upRes.headers, requestId), connection: 'close' };
      socket.write(`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage ?? ''}\r\n${rawHeaderLines(h)}\r\n`);
      upRes.pipe(socket);
      upRes.on('end', () => { release(); lingeringClose(client); });
      upRes.on('error', () => { release(); socket.destroy(); });
      // A client gone mid-body must not leave the app's answer streaming into nowhere (and counted).
      socket.once('close', () => { release(); upRes.destroy(); });
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      socket.off('close', onClientGone);
      release();
      if (socket.destroyed) return;
      // Past the read bound: over the limit too, and not retried (the app answered). A malformed
      // head is not retried either: the app got the handshake (below).
      if (isResponseHeadOverflow(err)) { refuseHead(); return; }
      if (isMalformedResponseHead(err)) { refuseHead(MALFORMED_RESPONSE_HEAD); return; }
      // No descriptor for the connection (fd-limit.ts): the proxy's own 503, no retry.
      if (ctx.fdLimit.connectFailed(err)) return answerPage(pages.overloaded(route.app, requestId, req.headers));
      tried.add(key);
      // An upgrade is replayed only when refused: after that the app may have seen the handshake.
      const retry = afterFailedAttempt(ctx, {
        requestId, app: route.app, key, err, connectFailed: isConnectFailure(err), attempts, committed: false, replayable: false,
      }, 'upstream upgrade failed');
      if (retry) return attempt();
      answerPage(pages.upstreamFailed(route.app, requestId, req.headers));
    });
  };
  attempt();
}
