// HTTP/2 "rapid reset" (CVE-2023-44487): a client opens a stream and resets it at once, over and
// over on one connection. Each stream is a request the proxy starts forwarding (a connection to the
// app, often) before the reset arrives, while the client's concurrent-stream limit never binds: a
// reset stream no longer counts. Node's only guard is nghttp2's reset rate limit (1 000 at once,
// then 33/s): when it trips, nghttp2 sends GOAWAY and stops reading, but node never closes the
// connection. Measured: one attacking connection got ~1 100 streams forwarded (~1 000 connections
// to the app, other clients' answers 0.1 → 1.2-1.7 s), then sat open, unread, until the 75 s idle
// timeout (h2-idle.ts), whether the client was still there or not.
// So, as nginx and Go's x/net/http2 do, a connection whose client resets too many streams before
// their response started gets GOAWAY ENHANCE_YOUR_CALM and is closed. A browser cancels at most the
// streams it has open (128, H2_MAX_CONCURRENT_STREAMS) when it leaves a page; twice that in 10 s is
// an attack.
import http2 from 'node:http2';
import { H2_MAX_CONCURRENT_STREAMS } from './h2.js';

/** Streams a client may reset before their response started, per connection and window. */
export const H2_RESET_BUDGET = 2 * H2_MAX_CONCURRENT_STREAMS;
export const H2_RESET_WINDOW_MS = 10_000;

const { NGHTTP2_NO_ERROR, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** Closes `session` (GOAWAY ENHANCE_YOUR_CALM) once its client reset more than the budget; `onClose` is told how many. */
export function closeOnRapidResets(session: http2.ServerHttp2Session, onClose: (resets: number) => void): void {
  let resets = 0;
  let since = 0;
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    stream.once('close', () => {
      // A stream that ended normally, or whose response had started (a download the user cancelled),
      // is not counted: only work the client asked for and threw away before any answer.
      if (stream.rstCode === NGHTTP2_NO_ERROR || stream.headersSent || session.destroyed) return;
      const now = Date.now();
      if (now - since > H2_RESET_WINDOW_MS) { since = now; resets = 0; }
      if (++resets <= H2_RESET_BUDGET) return;
      onClose(resets);
      // destroy(err, code) sends GOAWAY with `code` (destroy(undefined, code) sends NO_ERROR: node
      // defaults the error to 0 and takes that as the code) and closes the socket, cutting streams
      // still open; a graceful close() would wait for those this client keeps opening. The session
      // emits `err` as its 'error' (https.ts handles it).
      session.destroy(new Error('too many streams reset by the client'), NGHTTP2_ENHANCE_YOUR_CALM);
    });
  });
}
