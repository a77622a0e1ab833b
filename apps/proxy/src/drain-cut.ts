// What a stopping proxy cuts at the drain timeout (server.ts, https.ts; the fast path's own
// connections: fast/connection.ts cut()). A request cut before the app answered is logged 504: the
// client did not leave (499), the app did not fail (502), the proxy stopped waiting for its answer,
// as for an upstream timeout (nginx's worker_shutdown_timeout logs it with no status, 000).
// The reason goes with the teardown, not in a process-wide flag: with the flag, every request torn
// down after the first cut was 504 — one whose client left on its own while the plain listener
// still drained, after the HTTPS listener's cut, too. Marked at the cut, looked at only for a
// request closed before its answer: nothing per request.
import type http from 'node:http';
import { constants, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { Socket } from 'node:net';

const cutSockets = new WeakSet<Socket>();

/**
 * HTTP/2: Http2Session.destroy(err) destroys each open stream with `err`, so a stream the proxy cut
 * carries it (`stream.errored`) — the session itself is gone from the stream by its 'close'.
 */
const DRAIN_CUT = new Error('cut by a stopping proxy at the drain timeout');

/**
 * The plain listener's connections the fast path handed to node:http (fast/listen.ts), for the cut:
 * one Set entry and one shared 'close' listener a handed-off connection, nothing on the fast path.
 */
export class HandedOff {
  private readonly sockets = new Set<Socket>();
  private readonly onClose: (this: Socket) => void;
  constructor() {
    const sockets = this.sockets;
    this.onClose = function (this: Socket) { sockets.delete(this); };
  }
  readonly add = (s: Socket): void => { this.sockets.add(s); s.on('close', this.onClose); };
  /** An upgraded connection is node's no more: the cut leaves it alone (close() ends it with a Close frame). */
  forget(s: Socket): void { this.sockets.delete(s); }
  cutAll(): void { for (const s of this.sockets) cutSocket(s); }
}

/** Cuts an HTTP/1.1 connection node:http serves. */
export function cutSocket(s: Socket): void {
  cutSockets.add(s);
  s.destroy();
}

/**
 * Cuts an HTTP/2 session, its open streams with it. NO_ERROR, as s.destroy() without the marker
 * says: the client gets the same GOAWAY (0) and stream close (CANCEL) as before; an error alone
 * would make both INTERNAL_ERROR.
 */
export function cutSession(s: Http2Session): void {
  s.destroy(DRAIN_CUT, constants.NGHTTP2_NO_ERROR);
}

/**
 * Did a stopping proxy cut this request's connection? `socket`: its HTTP/1.1 socket, null for
 * HTTP/2 (forward.ts logWhenDone()).
 */
export function cutByProxy(socket: Socket | null, res: http.ServerResponse): boolean {
  if (socket) return cutSockets.has(socket);
  return (res as unknown as Http2ServerResponse).stream?.errored === DRAIN_CUT;
}
