// The two raw sockets of an upgraded (WebSocket) connection, piped together once the app said 101.
// Each direction ends the other when it ends, so a half-close (FIN) from either side passes
// through. When one side has closed, the other is ended, not destroyed: destroying it dropped what
// was still queued for it (the app's last messages and its close frame, when the app closed right
// after sending them to a client reading slowly). It is cut only if it does not close within
// CLOSE_GRACE_MS, or at once on an error.
import type { Duplex } from 'node:stream';

const CLOSE_GRACE_MS = 10_000;

/** Pipes `client` and `upstream` together; `done` runs once both have closed. */
export function tunnel(client: Duplex, upstream: Duplex, done: () => void): void {
  let open = 2;
  let grace: NodeJS.Timeout | undefined;
  const cut = () => { client.destroy(); upstream.destroy(); };
  upstream.pipe(client);
  client.pipe(upstream);
  // Registered after pipe(): its own 'close' handler unpipes (and pauses) first, so the resume()
  // below is what stays in effect.
  const onClose = (other: Duplex) => (hadError?: boolean) => {
    if (--open === 0) { clearTimeout(grace); done(); return; }
    if (hadError) return cut();
    // Nothing can reach the closed side any more: drop what the other still sends, so that its
    // end (and then its close) is seen, and end it once what is queued for it went out.
    other.resume();
    other.end();
    grace = setTimeout(cut, CLOSE_GRACE_MS);
  };
  client.once('close', onClose(upstream));
  upstream.once('close', onClose(client));
  client.on('error', cut);
  upstream.on('error', cut);
}
