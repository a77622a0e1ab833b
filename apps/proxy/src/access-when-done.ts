// The access line of a request node:http or HTTP/2 serves, written when its response is over
// (its 'close'): status, bytes the client got, and the replica forward.ts names in the box.
import type http from 'node:http';
import { accessEntry, askedOf } from './access-log.js';
import type { ProxyContext } from './context.js';
import { cutByProxy } from './drain-cut.js';

/** Writes the access-log entry when the response ends; the returned box gets the upstream's key. */
export function logWhenDone(ctx: ProxyContext, req: http.IncomingMessage, res: http.ServerResponse, requestId: string): { value: string } {
  const asked = askedOf(req, requestId);
  // The socket now, not req.socket at 'close': undici, done with `req` as the upload body, sets
  // req.socket = null (so that destroying the body spares the connection). Reading it there threw
  // from this listener — the process died, and the in-flight release after it never ran.
  const socket = req.httpVersionMajor === 1 ? req.socket : null;
  // The response holds the socket by now (handleRequest waits its turn: response-closed.ts), so
  // what the socket writes from here on is this response's.
  const written0 = socket?.bytesWritten ?? 0;
  const upstream = { value: '-' };
  res.once('close', () => {
    const bytes = socket ? socket.bytesWritten - written0 : Number(res.getHeader('content-length') ?? 0);
    // Closed before any answer went out: the client left (nginx's 499; res.statusCode said 200), or
    // a stopping proxy cut it at the drain timeout (504, drain-cut.ts).
    ctx.access!(accessEntry(asked, ctx.trusted, res.headersSent ? res.statusCode : cutByProxy(socket, res) ? 504 : 499, bytes, upstream.value));
  });
  return upstream;
}
