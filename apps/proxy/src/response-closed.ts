// HTTP/1.1 pipelining on node:http. node hands every pipelined request to the handler as soon as
// it parses it, and emits 'close' only on the response that holds the socket: when a client left
// with requests queued behind that one, their responses never closed, so what the proxy does there
// (end the replica's in-flight count, stop the upstream request, write the access line) never
// happened. So a request waits until its response holds the socket (waitsItsTurn): from then on,
// its response's 'close' is the end, as for any other; one whose connection closes before its turn
// never starts. (Not the request's 'close': undici destroys a request once it sent its body upstream.)
import type http from 'node:http';
import type { Socket } from 'node:net';

// One 'close' listener per connection for all its queued responses: a deep pipeline would
// otherwise pile listeners onto one socket.
const queued = new WeakMap<Socket, Set<() => void>>();

/** Runs `fn` once, at the response's 'close', or its connection's while it waits its turn. */
function onResponseClosed(req: http.IncomingMessage, res: http.ServerResponse, fn: () => void): void {
  let done = false;
  const once = () => { if (!done) { done = true; fn(); } };
  res.once('close', once);
  const socket = req.httpVersionMajor === 1 ? req.socket : null;
  if (!socket || res.socket) return;
  // Gone before this request's handler ran: no 'close' is coming.
  if (socket.destroyed) return void process.nextTick(once);
  let waiting = queued.get(socket);
  if (!waiting) {
    const set = (waiting = new Set());
    queued.set(socket, set);
    socket.once('close', () => { for (const w of [...set]) w(); set.clear(); });
  }
  waiting.add(once);
  // Its turn: node now closes it with the socket.
  res.once('socket', () => waiting.delete(once));
}

/**
 * Whether `res` waits its turn behind other responses on its connection (HTTP/1.1 pipelining):
 * then `go` runs once it holds the socket, or never if the client leaves first. node hands every
 * pipelined request to the handler as soon as it parses it: 1 000 GETs pipelined by a client that
 * read nothing all reached the app within 350 ms, and with a FIN 300 ms in, still all 1 000. The
 * fast path (answer-pace.ts) and nginx take them one at a time.
 */
export function waitsItsTurn(req: http.IncomingMessage, res: http.ServerResponse, go: () => void): boolean {
  if (req.httpVersionMajor !== 1 || res.socket) return false;
  let gone = false;
  onResponseClosed(req, res, () => { gone = true; });
  res.once('socket', () => { if (!gone) go(); });
  return true;
}
