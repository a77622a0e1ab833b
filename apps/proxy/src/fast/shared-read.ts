// Makes an established TLS socket read into one shared buffer through a callback, as node's
// `onread` option does for the plain sockets (listen.ts) — tls.Server offers no such option for the
// sockets it accepts. Before, each TLS read was copied into a new buffer node allocated, pushed
// through the socket's Readable and emitted as 'data': per request, at a fixed request rate.
import net, { type Socket } from 'node:net';

type ReadCallback = (n: number, buf: Uint8Array) => boolean;

// node's own per-socket slots for `onread` (lib/net.js kBuffer, kBufferCb, kBufferGen): read off a
// socket made with the option, as node keeps them private. onStreamRead() hands a read to
// socket[kBufferCb] whenever socket[kBuffer] is set; the handle's useUserBuffer() makes its reads
// land in that buffer instead of a new one.
const slots = ((): { buffer: symbol; callback: symbol; gen: symbol } | null => {
  const probe = new net.Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as net.SocketConstructorOpts);
  const find = (d: string) => Object.getOwnPropertySymbols(probe).find((s) => s.description === d);
  const [buffer, callback, gen] = [find('kBuffer'), find('kBufferCb'), find('kBufferGen')];
  probe.destroy();
  return buffer && callback && gen ? { buffer, callback, gen } : null;
})();

type Handle = { useUserBuffer?: (buf: Uint8Array) => void } | null;

/**
 * Switches `socket` to reading into `buffer`: each read is `callback(n, buffer)`, valid only during
 * the call. Returns the bytes the socket had already buffered before the switch (to be handled
 * first), null when none, or false when this node does not offer the switch (the socket then goes
 * on with 'data' events).
 */
export function readIntoShared(socket: Socket, buffer: Buffer, callback: ReadCallback): Buffer | null | false {
  const handle = (socket as unknown as { _handle: Handle })._handle;
  if (!slots || typeof handle?.useUserBuffer !== 'function') return false;
  const s = socket as unknown as Record<symbol, unknown>;
  if (s[slots.buffer]) return false;
  // Read off what the TLS layer decrypted before the switch (a request sent with the Finished).
  const pending = socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
  s[slots.buffer] = buffer;
  s[slots.callback] = callback;
  s[slots.gen] = null;
  handle.useUserBuffer(buffer);
  return pending;
}
