// node ends an HTTP/2 connection's socket gracefully once its session is over — after a GOAWAY the
// client sent, our idle close (h2-idle.ts), a stopping proxy's close — and then waits for the
// client's FIN for good: the session's 'close' comes only with the socket's, and even destroying
// the session then (drain-cut.ts) only ends the socket again. A client that never closes its side
// held the socket and its TLS state forever, and kept a stopping proxy from ever finishing its
// close (measured: node's own client, whose stream the proxy had reset with NO_ERROR while it was
// still sending, never closed its side; the proxy's close() hung past the drain timeout, for good).
// So once our side is ended the client gets `ms` to end its own, as nginx's lingering_timeout
// (5 s), and the socket is then destroyed.
import type { TLSSocket } from 'node:tls';

export const H2_FIN_WAIT_MS = 5000;

export function destroyAfterFinWait(socket: TLSSocket, ms: number): void {
  socket.once('finish', () => {
    const t = setTimeout(() => socket.destroy(), ms);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  });
}
