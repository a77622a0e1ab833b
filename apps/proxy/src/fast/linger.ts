// Closing a connection whose client is still sending — the rest of a request body the app answered
// without reading, or one the proxy answered with its own page. A close with unread bytes makes the
// kernel send a reset, which can destroy the response in the client's buffers before it is read,
// and a client left unread blocks on its upload forever. So, like nginx's lingering close: FIN after
// the response, then read and drop whatever still arrives until the client closes or `ms` pass.
import type { Socket } from 'node:net';

export const LINGER_MS = 5000;

const drop = (): void => {};

export function lingeringClose(socket: Socket, ms = LINGER_MS): void {
  socket.on('error', drop);
  socket.on('data', drop);
  socket.resume();
  socket.end();
  const cut = setTimeout(() => socket.destroy(), ms);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}
