// A fast-path exchange's attempt that failed (exchange.ts): another endpoint (retry.ts, the same
// rules as forward.ts), the proxy's own 503 or 502, or — part of the answer already out — the
// client's answer broken off, with one warn line saying why and an access line with what the
// client got. Module functions over the exchange's fields, not an object of their own: nothing
// more is made per request.
import { isConnectFailure } from '../context.js';
import { pages, type Page } from '../pages.js';
import { afterFailedAttempt, replayable, warnBrokeOff } from '../retry.js';
import type { Exchange } from './exchange.js';

/** This attempt failed: another endpoint (retry.ts), or the 502 (`invalid`: UPSTREAM_INVALID_RESPONSE naming it). */
export function attemptFailed(ex: Exchange, err: NodeJS.ErrnoException, committed: boolean, invalid?: string): void {
  const conn = ex.conn;
  ex.conn = null;
  if (conn) { conn.user = null; conn.socket.destroy(); }
  // Part of the response is out: the client must see a broken response, not a short "complete" one.
  // A 1xx passed on is not part of it: the final response has not started, so what follows is as
  // for a drop before any byte (another replica, or the 502 after the 1xx), as on node:http. It
  // used to cut the connection after the 1xx: no final response, and an access line of a 502 the
  // client never got.
  if (ex.res) {
    // As nginx ("upstream prematurely closed connection") and forward.ts: one line says why it was cut.
    warnBrokeOff(ex.ctx, ex.req.requestId, ex.req.route.app, ex.key, err);
    return finishBroken(ex);
  }
  ex.release();
  const { requestId, route, method, contentLength } = ex.req;
  // No descriptor for the connection (fd-limit.ts): nothing was sent, and another replica would
  // need one too. The proxy's own 503, not a 502 blaming the app.
  if (ex.ctx.fdLimit.connectFailed(err)) {
    ex.headBuf = null;
    ex.up.stop();
    return ex.fail(pages.overloaded(route.app, requestId, ex.req.headers));
  }
  (ex.tried ??= new Set()).add(ex.key);
  ex.invalid = invalid;
  const retry = afterFailedAttempt(ex.ctx, {
    requestId, app: route.app, key: ex.key, err, connectFailed: isConnectFailure(err), attempts: ex.attempts,
    committed, replayable: replayable(method, contentLength > 0),
  }, invalid ? 'upstream sent a malformed response' : undefined);
  ex.headBuf = null;
  ex.up.stop();
  if (retry) return ex.start();
  ex.fail(exhausted(ex));
}

/** The 502 once no replica is left: the last attempt's failure decides which. */
export function exhausted(ex: Exchange): Page { return pages.upstreamFailure(ex.req.route.app, ex.invalid, ex.req.requestId, ex.req.headers); }

/** The app sent what cannot be relayed (never retried). `invalid`: what the client's 502 UPSTREAM_INVALID_RESPONSE names (else UPSTREAM_UNAVAILABLE). */
export function brokenResponse(ex: Exchange, reason: string, invalid?: string): void {
  ex.ctx.log.warn({ requestId: ex.req.requestId, app: ex.req.route.app, endpoint: ex.key, err: reason }, 'upstream sent a malformed response');
  if (ex.conn) { ex.conn.user = null; ex.conn.socket.destroy(); ex.conn = null; }
  if (ex.res) return finishBroken(ex);
  ex.release();
  ex.fail(pages.upstreamFailure(ex.req.route.app, invalid, ex.req.requestId, ex.req.headers));
}

/** The client's answer is cut: logged with the app's status and the bytes it got, as nginx logs it. */
function finishBroken(ex: Exchange): void {
  ex.done = true;
  ex.release();
  ex.owner.broken(ex.res!.status, ex.out.bytes, ex.key);
}
