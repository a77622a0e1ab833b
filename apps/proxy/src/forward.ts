// Ordinary HTTP requests: Host → app → endpoint, streamed both ways (undici to the upstream:
// measured ~1.5x node:http's client here, see bench/proxy), retried on another endpoint when the
// connection failed before any response byte.
import type http from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { logWhenDone } from './access-when-done.js';
import { clientIp, isConnectFailure, listenPortOf, protoOf, type ProxyContext } from './context.js';
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js';
import { decide, type Decided } from './decide.js';
import { h2Authority, h2ResponseHeaders, h2StatusValid } from './h2.js';
import { isResponseHeadOverflow, MAX_RESPONSE_FIELDS, requestHeadTooLarge, RESPONSE_HEAD_TOO_LARGE, responseFieldsSize } from './head-limits.js';
import { hostOf } from './host.js';
import { pages } from './pages.js';
import { waitsItsTurn } from './response-closed.js';
import { afterFailedAttempt, invalidResponseHead, replayable, warnBrokeOff } from './retry.js';
import { bodyLimit, buffers } from './body-policy.js';
import { bufferRequest, type BufferedBody } from './request-buffer.js';
import { BodyTooLarge, drainUpload, hasBody, uploadBody, UploadStalled } from './upload-body.js';
import { HangUp } from './hang-up.js';
import { send, sendUnread } from './send-page.js';

export { HEALTH_PATH } from './decide.js';

/**
 * Handles one request from either listener: node:http's (HTTP/1.1, plain or TLS) or the HTTP/2
 * compat API's (whose :authority stands in for Host; pseudo-headers never go upstream).
 * `expectsContinue`: it came with `Expect: 100-continue` (the listeners' 'checkContinue').
 */
export function handleRequest(ctx: ProxyContext, req: http.IncomingMessage, res: http.ServerResponse, expectsContinue = false): void {
  if (waitsItsTurn(req, res, () => handleRequest(ctx, req, res, expectsContinue))) return;
  const requestId = requestIdOf(req.headers);
  // HTTP/1.1 only: an HTTP/2 stream has no connection header (the session is ended by close()).
  if (ctx.draining && req.httpVersionMajor === 1) res.shouldKeepAlive = false;
  const upstreamKey = ctx.access ? logWhenDone(ctx, req, res, requestId) : null;
  const h2 = req.httpVersionMajor === 2;
  // node's parsers take more than this (head-limits.ts): the limit is the same for HTTP/1.1 and HTTP/2.
  if (requestHeadTooLarge(req)) return send(res, pages.headersTooLarge(requestId));
  const d = decide(ctx, req.method ?? 'GET', req.url, h2 ? h2Authority(req.headers) : hostOf(req), protoOf(req), req.headers, requestId);
  if (d.later) {
    // Before the first route table (decide.ts): forwarded once it came, unless the client left meanwhile.
    let gone = false;
    res.once('close', () => { gone = true; });
    void d.later().then((later) => { if (!gone) forward(ctx, req, res, later, requestId, upstreamKey, expectsContinue); });
    return;
  }
  forward(ctx, req, res, d, requestId, upstreamKey, expectsContinue);
}

/** The proxy's own page, or the request sent to the app `d` routes it to (another replica on failure, see retry.ts). */
function forward(ctx: ProxyContext, req: http.IncomingMessage, res: http.ServerResponse, d: Decided, requestId: string, upstreamKey: { value: string } | null, expectsContinue: boolean): void {
  // A body over the limit (decide.ts) is not read: the connection closes after the page.
  if (d.page) return d.unread ? sendUnread(req, res, d.page, null) : send(res, d.page);
  const h2 = req.httpVersionMajor === 2;
  const { route: first, host, rawHost, path } = d;
  // Only now, going to an app, is the body wanted: a 431 or the proxy's own page goes out without a
  // 100 (node would send one before any handler ran), and the client need not send its body.
  if (expectsContinue) res.writeContinue();

  const peer = clientIp(req);
  const headers = upstreamRequestHeaders(req.headers, { clientIp: peer, proto: protoOf(req), host: rawHost, port: listenPortOf(req), requestId, trusted: ctx.trusted(peer) });
  // The client's Expect: 100-continue was answered above.
  delete headers.expect;
  const withBody = hasBody(req);
  // The body is read whole first (request-buffer.ts) unless it is all here already or buffering is off (body-policy.ts).
  const toBuffer = withBody && !req.complete && buffers(ctx, first);
  let buffered: BufferedBody | null = null;
  const method = (req.method ?? 'GET') as Dispatcher.HttpMethod;
  let tried: Set<string> | undefined;
  // The current attempt's endpoint ("host:port").
  let key = '';
  let release = () => {};
  let attempts = 0;
  let responded = false;
  // The proxy's own page went out instead of the app's response: nothing left to do on failure.
  let replaced = false;
  // The last attempt's app answered a wrong head: what the 502 names when no replica is left.
  let invalid: string | undefined;
  const exhausted = (app: string) => pages.upstreamFailure(app, invalid, requestId, req.headers);
  // undici takes an EventEmitter as its signal: far cheaper per request than an AbortController.
  const hangUp = new HangUp();
  res.on('close', () => {
    // Client gone (or response done): stop the upstream work and end the in-flight count.
    // writableEnded, not writableFinished: an HTTP/2 response reads as finished once its stream
    // is reset, which left the upstream request running (CVE-2023-44487, "rapid reset").
    if (!res.writableEnded) {
      // HTTP/2: node's response has no `errored`, and undici's promise resolves (the response reads
      // as finished), so the app breaking off is told here: undici destroyed the stream with the app
      // connection's error, having first let go of our signal — a client gone leaves it held (and one
      // gone before the app's answer, `responded`, before undici was even asked, is no break either).
      const broke = h2 && responded && hangUp.listenerCount('abort') === 0 ? (res as unknown as { stream: { errored: NodeJS.ErrnoException | null } }).stream.errored : null;
      if (broke) warnBrokeOff(ctx, requestId, first.app, key, broke);
      hangUp.abort();
    }
    release();
    buffered?.release();
  });
  // The client stopped sending its body (upload-body.ts, request-buffer.ts), or it is over the
  // limit: the app's request, if any, is cut, the client told so (send-page.ts).
  const stalled = () => pages.uploadStalled(ctx.bodyTimeoutMs, requestId, req.headers);
  // A declared length over the limit was refused (decide.ts); one without is counted as it comes,
  // buffered (request-buffer.ts) or streamed (upload-body.ts).
  const limit = bodyLimit(ctx, first);
  const tooLarge = () => pages.bodyTooLarge(limit, requestId, req.headers);
  const counted = limit !== Infinity && req.headers['content-length'] === undefined;

  // Chosen when undici is asked, not before: node's parser emits the request before it parsed the
  // body that came in the same read, so only by then does `req.complete` say it is all here.
  const bodyToSend = (): Readable | null => {
    if (!withBody) return null;
    const rest = () => uploadBody(req, ctx.bodyTimeoutMs, limit - (buffered?.received ?? 0));
    if (buffered) return Readable.from(buffered.replay(buffered.more ? rest() : null), { objectMode: false });
    return req.complete && !counted ? req : rest();
  };
  const attempt = (): void => {
    attempts++;
    // Re-read the table: a retry must not go to an endpoint a newer version removed.
    const table = ctx.table();
    const route = table.get(host);
    if (!route || route.endpoints.length === 0) return send(res, tried ? exhausted(first.app) : pages.noReplica(first.app, requestId, req.headers));
    const ep = table.pick(route, ctx.endpoints.isDown, tried, ctx.endpoints.inFlight);
    if (!ep) return send(res, exhausted(route.app));
    key = ep.key;
    release = ctx.endpoints.acquire(key);
    if (upstreamKey) upstreamKey.value = key;
    // undici only starts reading the body once connected, so a refused connect leaves it unread; an
    // app may answer before reading the whole upload (a 413): the rest is dropped (upload-body.ts).
    // A body all here by then (the parser reads what came with the head before this runs) goes as
    // is: undici knows its length and sends Content-Length, which apps that cannot read chunked
    // uploads (WSGI servers) need.
    let body: Readable | null = null;
    ctx.upstream.get().then((up) => up.stream(
      { origin: `http://${key}`, path, method, headers: headers as Record<string, string | string[]>, body: body = bodyToSend(), signal: hangUp },
      ({ statusCode, headers: upHeaders }) => {
        responded = true;
        const refuse = (what: string): never => {
          replaced = true;
          send(res, pages.invalidResponse(route.app, what, requestId, req.headers));
          // Throwing makes undici abort: the app's body is not read, its connection not reused.
          throw new Error(`upstream sent ${what}`);
        };
        if (responseFieldsSize(upHeaders) > MAX_RESPONSE_FIELDS) refuse(RESPONSE_HEAD_TOO_LARGE);
        if (h2 && !h2StatusValid(statusCode)) refuse(`status ${statusCode}, which HTTP/2 cannot carry`);
        const out = clientResponseHeaders(upHeaders as http.IncomingHttpHeaders, requestId);
        res.writeHead(statusCode, h2 ? h2ResponseHeaders(out) : out);
        return res;
      },
    )).then(() => drainUpload(req, body), (err: NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }) => {
      if (replaced) return drainUpload(req, body);
      // The app broke off its answer: undici destroyed `res` with the app connection's error (here
      // `err` only says the response closed early; a client gone leaves `res.errored` unset). As nginx
      // ("upstream prematurely closed connection") and the fast path, one line says why it was cut.
      const broke = responded ? (res as { errored?: NodeJS.ErrnoException | null }).errored : null;
      if (broke) warnBrokeOff(ctx, requestId, route.app, key, broke);
      if (res.destroyed || res.writableFinished) return;
      // Upstream died mid-body: the client must see a broken response, not a short "complete" one
      // (logged with the app's status and the bytes sent, logWhenDone; the fast path does the same).
      if (responded || res.headersSent) { res.destroy(); return; }
      release();
      if (body?.errored instanceof UploadStalled) return sendUnread(req, res, stalled(), body);
      if (body?.errored instanceof BodyTooLarge) return sendUnread(req, res, tooLarge(), body);
      // A head past undici's bound is over the proxy's limit too: the app answered, and another
      // replica would answer the same (the fast path does not retry it either).
      if (isResponseHeadOverflow(err)) {
        ctx.log.warn({ requestId, app: route.app, endpoint: key, err: err.code }, 'upstream sent a malformed response');
        return send(res, pages.invalidResponse(route.app, RESPONSE_HEAD_TOO_LARGE, requestId, req.headers));
      }
      // No descriptor for the connection (fd-limit.ts): the proxy's own 503, no retry.
      if (ctx.fdLimit.connectFailed(err)) return send(res, pages.overloaded(route.app, requestId, req.headers));
      (tried ??= new Set()).add(key);
      // A malformed head, an unasked 101: replayed only as a reset is (retry.ts); else the 502 says what the app did.
      invalid = invalidResponseHead(err);
      const retry = afterFailedAttempt(ctx, {
        requestId, app: route.app, key, err, connectFailed: isConnectFailure(err) || isConnectFailure(err.cause), attempts,
        // A body read whole (request-buffer.ts) is sent again as it was.
        committed: withBody && !buffered?.complete && (req.readableDidRead || req.readableEnded), replayable: replayable(method, withBody),
      }, invalid ? 'upstream sent a malformed response' : undefined);
      if (retry) return attempt();
      send(res, exhausted(route.app));
    });
  };
  if (!toBuffer) return attempt();
  bufferRequest(req, ctx.requestBuffer, ctx.bodyTimeoutMs, hangUp, { limit, expected: Number(req.headers['content-length'] ?? 0) }).then((b) => {
    buffered = b;
    // All here: the app gets its length, whether the client sent one or not (chunked, HTTP/2).
    if (b.complete) headers['content-length'] = String(b.length);
    attempt();
  }, (err: Error) => {
    // UploadGone: the client left; its request is logged as any other it left (logWhenDone).
    if (err instanceof UploadStalled) sendUnread(req, res, stalled(), null);
    else if (err instanceof BodyTooLarge) sendUnread(req, res, tooLarge(), null);
  });
}
