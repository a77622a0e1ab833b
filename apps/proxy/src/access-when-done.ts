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
  const h2Sent = socket ? null : countBodySent(res);
  const upstream = { value: '-' };
  res.once('close', () => {
    const bytes = socket ? socket.bytesWritten - written0 : h2Sent!.bytes;
    // Closed before any answer went out: the client left (nginx's 499; res.statusCode said 200), or
    // a stopping proxy cut it at the drain timeout (504, drain-cut.ts).
    ctx.access!(accessEntry(asked, ctx.trusted, res.headersSent ? res.statusCode : cutByProxy(socket, res) ? 504 : 499, bytes, upstream.value));
  });
  return upstream;
}

/**
 * The body bytes an HTTP/2 response got out. node counts none per stream (its session's socket
 * carries every stream), and Content-Length, logged before, said 0 for a streamed answer and the
 * whole length for one the client reset or never took. A write's callback runs once nghttp2 framed
 * all of it, which the client's flow-control window allows — or once the stream is destroyed, for
 * the write nghttp2 held then (measured: with no error), so what completes then is not counted.
 * HTTP/2's end(chunk) writes through write().
 */
function countBodySent(res: http.ServerResponse): { bytes: number } {
  const sent = { bytes: 0 };
  const stream = (res as unknown as { stream: { destroyed: boolean } }).stream;
  const write = res.write as (chunk: string | Uint8Array, encoding?: BufferEncoding, cb?: (err?: Error | null) => void) => boolean;
  res.write = function (this: http.ServerResponse, chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    const n = typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.byteLength;
    return write.call(this, chunk, encoding, (err) => { if (!err && !stream.destroyed) sent.bytes += n; cb?.(err); });
  } as typeof res.write;
  return sent;
}
