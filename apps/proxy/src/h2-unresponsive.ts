// A connection node's HTTP/2 (nghttp2 1.61) ended for a protocol error it takes as the connection's
// — e.g. DATA on a stream whose request had ended (RFC 9113 §5.1 makes it a stream error; nghttp2
// sends GOAWAY STREAM_CLOSED) — is then neither read nor closed: nghttp2 wants no more reads or
// writes, node stops reading and waits, and tells JS nothing. The stream that request opened never
// ends (its answer is never sent), so the idle timeout (h2-idle.ts) never comes either: one frame
// held a socket, its TLS state and a session for good (measured: still open after 5 s and on;
// nginx 1.22 closes such a connection in ~70 ms). So, as Go's HTTP/2 server does (ReadIdleTimeout,
// PingTimeout), a connection on which nothing was read or written for `quietMs` is sent a PING, and
// closed when no answer comes within `answerMs`. A client that is there answers at once (RFC 9113
// §6.7: every endpoint must), so a quiet long-poll stays open; a peer gone without a FIN goes too.
import type http2 from 'node:http2';

/** How long a PING may go unanswered: Go's default PingTimeout. */
export const H2_PING_TIMEOUT_MS = 15_000;

export function closeWhenUnresponsive(session: http2.ServerHttp2Session, quietMs: number, answerMs: number, onClose: () => void): void {
  let cut: NodeJS.Timeout | undefined;
  // node's session timeout: `quietMs` without a frame read or written (it emits 'timeout' once; a
  // later frame, or setTimeout again, starts it anew).
  session.setTimeout(quietMs);
  session.once('close', () => clearTimeout(cut));
  session.on('timeout', () => {
    if (cut || session.destroyed) return;
    cut = setTimeout(() => {
      if (session.destroyed) return;
      onClose();
      session.destroy();
    }, answerMs);
    cut.unref();
    // Returns false past node's maxOutstandingPings (10), which no live peer leaves: the cut stands.
    session.ping((err) => {
      if (err) return; // the session closed meanwhile
      clearTimeout(cut);
      cut = undefined;
      if (!session.destroyed) session.setTimeout(quietMs);
    });
  });
}
