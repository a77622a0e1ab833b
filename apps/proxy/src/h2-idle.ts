// An HTTP/2 connection with no open stream is closed after `ms` of that (GOAWAY: a stream the client
// started meanwhile is refused and retried by it on a new connection). Node's HTTP/2 server has no
// idle timeout, so an idle client held its socket (and TLS state) for good. One timeout for the
// connection, not per stream: a quiet long-poll or event stream is never cut, it is not idle.
// nginx's keepalive_timeout (75 s) applies to HTTP/2 the same way; longer than HTTP/1.1's 5 s since
// a client keeps one HTTP/2 connection instead of six, and a new one costs a TLS handshake.
import type http2 from 'node:http2';

export const H2_IDLE_MS = 75_000;

export function closeWhenIdle(session: http2.ServerHttp2Session, ms: number): void {
  let open = 0;
  const timer = setTimeout(() => { if (open === 0) session.close(); }, ms);
  timer.unref();
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    open++;
    stream.once('close', () => { if (--open === 0) timer.refresh(); });
  });
  session.once('close', () => clearTimeout(timer));
}
