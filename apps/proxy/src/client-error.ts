// What a client gets when node:http's parser refuses its request (the fast path hands it anything
// outside its subset, so this is where malformed requests end): node's own statuses — 431 for a
// head over the 16 KB limit, 408 when the head is too slow, else 400 — each with the proxy's
// catalogued code and a sentence (pages.ts), not one bare 400 for everything. Then a lingering
// close: a client that sent a body after the bad head would otherwise get a reset, not the answer.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { requestIdOf } from './headers.js';
import { lingeringClose } from './fast/linger.js';
import { pages, rawPage } from './pages.js';

export function clientErrorHandler(log: Logger) {
  // node's parser goes on refusing the bytes that follow a bad head, each time with another
  // clientError: those sockets are answered and lingering already.
  const answered = new WeakSet<Duplex>();
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    if (answered.has(socket)) return;
    log.debug({ err: err.code ?? err.message }, 'client error');
    if (!socket.writable || socket.destroyed) { socket.destroy(); return; }
    const id = requestIdOf({});
    const page = err.code === 'HPE_HEADER_OVERFLOW' ? pages.headersTooLarge(id)
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? pages.requestTimeout(id)
      : pages.malformed(id);
    const raw = rawPage(page, 'GET', true);
    if (!(socket instanceof net.Socket)) { socket.end(raw); return; }
    answered.add(socket);
    socket.write(raw);
    lingeringClose(socket);
  };
}
