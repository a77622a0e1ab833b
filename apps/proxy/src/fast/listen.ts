// Puts the fast path in front of a node server's own connection handling: the server still
// listens (and counts connections for close()), but each accepted socket starts on the fast path;
// node's handler only gets the ones the fast path hands off (or that `wanted` declines, like
// HTTP/2 sessions on the TLS listener).
import net, { type Socket } from 'node:net';
import type { ProxyContext } from '../context.js';
import { ClientConnection } from './connection.js';
import type { UpstreamPool } from './pool.js';
import { SendWatch } from './send-watch.js';
import { readIntoShared } from './shared-read.js';

// Plain TCP clients read into this one buffer (node's `onread`, as the upstream sockets in
// pool.ts): no 64 KiB allocation shrunk per read and no Readable push/'data' per request — at a
// fixed request rate each request wakes the proxy for one client read, so this is paid per request.
const CLIENT_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);
// TLS clients read into their own (shared-read.ts): node's TLS layer can emit a read from inside a
// call into it (an empty write runs its read loop), so a TLS read must never land in the buffer a
// plain read's callback may still be using.
const TLS_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

export interface FastListener {
  readonly ctx: ProxyContext;
  readonly pool: UpstreamPool;
  readonly proto: 'http' | 'https';
  /** Live fast-path connections (close() ends the idle ones). */
  readonly conns: Set<ClientConnection>;
  /** Node's own connection handler, for connections the fast path gives up. */
  handOff(socket: Socket): void;
  /** Cuts a handed-off connection whose client stops taking its answer (send-watch.ts). */
  readonly sendWatch: SendWatch;
  /** Keep-alive idle timeout and the time a request head may take, in ms. */
  readonly keepAliveMs: number;
  readonly headTimeoutMs: number;
  /** How long a client may take none of the bytes we have for it (connection-end.ts SEND_TIMEOUT_MS). */
  readonly sendTimeoutMs: number;
  /** How long a client may send none of a request body still due (connection-end.ts BODY_TIMEOUT_MS). */
  readonly bodyTimeoutMs: number;
}

export function takeOverConnections(
  server: net.Server,
  event: 'connection' | 'secureConnection',
  o: Omit<FastListener, 'handOff' | 'sendWatch'>,
  wanted: (s: Socket) => boolean = () => true,
  onNodeSocket: (s: Socket) => void = () => {},
): void {
  // Node registers its HTTP machinery as the listener of this event; we call it ourselves.
  const nodeHandlers = server.listeners(event) as Array<(s: Socket) => void>;
  server.removeAllListeners(event);
  const handOff = (s: Socket) => {
    onNodeSocket(s);
    for (const h of nodeHandlers) h.call(server, s);
  };
  const l: FastListener = { ...o, handOff, sendWatch: new SendWatch(o.sendTimeoutMs) };
  // Accepted TCP sockets arrive paused, so their handle can be given to a socket that reads with onread.
  const raw = event === 'connection';
  if (raw) (server as net.Server & { pauseOnConnect: boolean }).pauseOnConnect = true;
  server.on(event, (s: Socket) => {
    if (!wanted(s)) { handOff(raw ? s.resume() : s); return; }
    let conn: ClientConnection | null = null;
    if (!raw) {
      const pending = readIntoShared(s, TLS_READ_BUFFER, (n, buf) => conn!.onRead(n, buf));
      conn = new ClientConnection(s, l, pending === false ? null : TLS_READ_BUFFER);
      if (pending) conn.onRead(pending.length, pending);
      return;
    }
    const socket = rewrap(s, server, (n, buf) => conn!.onRead(n, buf));
    conn = new ClientConnection(socket, l, CLIENT_READ_BUFFER);
  });
}

/** Gives a socket the fast path stops reading to node's handler, with the bytes it read put back first. */
export function handOffToNode(l: FastListener, socket: Socket, read: Buffer | null): void {
  socket.pause();
  if (read) socket.unshift(read);
  l.sendWatch.add(socket);
  l.handOff(socket);
  // Node's handler attaches its 'data' listener to a paused stream, which does not resume it:
  // the bytes put back would sit there unread.
  socket.resume();
}

type Internal = Socket & { _handle: unknown; _server: net.Server | null; server: net.Server | null };

/**
 * Moves a paused accepted socket's handle to a new net.Socket reading with `onread` (node's
 * constructor takes both `handle` and `onread`; the server offers no onread for accepted sockets in
 * Node 20). The server's connection count moves with it, so close() still waits for it.
 */
function rewrap(s: Socket, server: net.Server, callback: (n: number, buf: Uint8Array) => boolean): Socket {
  const old = s as Internal;
  const handle = old._handle;
  old._handle = null;
  old._server = old.server = null;
  // Half-open like node:http's server: a client's FIN still gets its answer (connection.ts onEnd).
  const socket = new net.Socket({ handle, allowHalfOpen: true, readable: true, writable: true, onread: { buffer: CLIENT_READ_BUFFER, callback } } as net.SocketConstructorOpts) as Internal;
  socket._server = socket.server = server;
  return socket;
}
