// How a client connection on the fast path (connection.ts) ends, and the access line of the request
// it may end with: the client's FIN, its leaving or a socket error, the keep-alive and head timer,
// and a stopping proxy's cut at the drain timeout. Module functions over the connection's fields,
// not an object of their own: nothing more is made per connection or request.
import { accessEntry } from '../access-log.js';
import { pages } from '../pages.js';
import type { ClientConnection } from './connection.js';
import { tookNoneFor } from './send-watch.js';

/** The request's access line (the log is on). */
export function logRequest(c: ClientConnection, status: number, bytes: number, upstream: string): void {
  const req = c.req!;
  const { ctx } = c.l;
  const asked = { method: req.method, host: String(req.headers.host), path: req.target, proto: '1.1', xff: req.headers['x-forwarded-for'], peer: c.side.peer, requestId: c.requestId, t0: c.t0 };
  ctx.access!(accessEntry(asked, ctx.trusted, status, bytes, upstream));
}

/**
 * Who ended a request in flight, as its access line says when the app had not answered yet: the
 * client left (499), or a stopping proxy cut it (504: the client did not leave, the app did not
 * fail, the proxy stopped waiting; nginx's worker_shutdown_timeout logs no status, 000).
 */
export type CutBy = 499 | 504;

/**
 * The connection ends with a request in flight (the client's FIN, reset or close; a stopping
 * proxy's cut, connection.ts cut()): the app's request is closed, and logged as nginx logs it —
 * `by` before any of the answer went out, else the app's status and the bytes the client got. The
 * reason comes with the teardown (../drain-cut.ts): a client that leaves on its own while the proxy
 * stops stays 499. An exchange over already has had its line.
 */
export function abandon(c: ClientConnection, by: CutBy): void {
  const ex = c.ex;
  c.ex = null;
  if (!ex || ex.over) return;
  ex.abort();
  if (c.l.ctx.access && c.req) logRequest(c, ex.status || by, c.out.bytes, ex.upstream || '-');
}

/**
 * The client sent FIN (the server allows half-open sockets). With a request in flight that is the
 * client giving up (a long poll it no longer wants, a slow page it closed): as nginx does
 * (proxy_ignore_client_abort off) and node:http here, the app's request is closed at once (499),
 * where before the app kept working on it, and the proxy its upstream connection, until it
 * answered — and a request whose body was still arriving never would be (the app waited for the
 * rest for as long as it allowed). Else, answers it has not read yet still go out, then we close —
 * but no request it pipelined behind them starts: a client that ended its side without reading its
 * answers has given up on those too, as nginx 1.22.1 takes it (measured: none of them reached the
 * app). Before, each ran once the client read (1000 pipelined GETs: the app saw the ~870 behind the
 * FIN too; test/integration/proxy-half-close.test.ts).
 */
export function clientFin(c: ClientConnection): void {
  c.ended = true;
  if (c.ex) { c.destroy(); return; }
  if (c.pace.waiting) { c.buf = null; return; } // readOn sends what it was answered, then ends
  c.end();
}

/** nginx's send_timeout: a client that takes none of the bytes we have for it this long is cut. */
export const SEND_TIMEOUT_MS = 60_000;

/**
 * nginx's client_body_timeout: a client that sends none of a request body still due this long is
 * answered 408 (REQUEST_TIMEOUT, then the connection closes), or cut if the app's answer has begun;
 * the app's request is closed either way. The body streams to the app as it comes, so one that
 * sent a head with a Content-Length and then nothing held its connection and the app's request for
 * good (slow POST: a few such clients tie up every worker of a pre-forking app). Not while the
 * proxy itself holds the client back (the app reads the upload slowly: request-writer.ts pauses it).
 */
export const BODY_TIMEOUT_MS = 60_000;

/** A request starts: the clock of a body still due starts with it. */
export function uploadStarts(c: ClientConnection): void {
  const u = c.upload;
  u.left = c.ex?.bodyLeft ?? 0;
  u.since = u.left > 0 ? Date.now() : 0;
}

/** The body timeout passed: the proxy's 408 and a close, or a cut once the app's answer began. */
function uploadTimedOut(c: ClientConnection): void {
  const ex = c.ex!;
  if (ex.status) { c.destroy(); return; }
  const upstream = ex.upstream || '-';
  ex.abort();
  // Logged 408 with the page's bytes; the connection closes after it, the rest of the upload unread.
  c.answer(pages.uploadStalled(c.l.bodyTimeoutMs, c.requestId, c.req!.headers), true, 0, upstream);
}

/** Whether the upload in flight sent no byte for bodyTimeoutMs (checked on the connection's timer). */
function uploadStalled(c: ClientConnection, left: number, now: number): boolean {
  const u = c.upload;
  if (u.since === 0 || u.left !== left || c.socket.isPaused()) { u.left = left; u.since = now; return false; }
  return now - u.since >= c.l.bodyTimeoutMs;
}

/**
 * The connection's one timer (re-armed per request with refresh(), never made anew) fired.
 * Bytes the client has not taken yet (in the socket's buffer: the kernel's is full) are never
 * dropped by the keep-alive close — a client that paused reading for 5 s lost the end of its
 * answer — but only once it has taken none of them for sendTimeoutMs; before, one that read nothing
 * while the answer was in flight held its connection and the app's for good.
 */
export function timerFired(c: ClientConnection): void {
  if (c.socket.writableLength > 0) {
    if (tookNoneFor(c.socket, c.send, Date.now(), c.l.sendTimeoutMs)) c.destroy();
    else c.timer.refresh();
    return;
  }
  // All taken since the last check: the connection is idle from about now, not from its last answer.
  if (c.send.since !== 0) { c.send.since = 0; c.timer.refresh(); return; }
  if (c.ex?.wantsBody && uploadStalled(c, c.ex.bodyLeft, Date.now())) { uploadTimedOut(c); return; }
  if (c.ex || c.pace.waiting) { c.timer.refresh(); return; }
  // A head that has not finished arriving within headTimeoutMs (slowloris) is cut; an idle
  // keep-alive connection is closed after keepAliveMs.
  if (c.buf && c.headSince && Date.now() - c.headSince < c.l.headTimeoutMs) { c.timer.refresh(); return; }
  c.destroy();
}
