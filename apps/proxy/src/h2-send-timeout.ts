// nginx's send_timeout for HTTP/2 streams, as fast/send-watch.ts is for HTTP/1.1 connections: a
// stream whose client takes none of the bytes waiting for it for `timeoutMs` is reset. A client
// that never opens its flow-control window (SETTINGS_INITIAL_WINDOW_SIZE 0, no WINDOW_UPDATE) yet
// answers PINGs held each stream, and the app's request behind it, for good (h2-unresponsive.ts
// sees a live peer, h2-idle.ts an open stream). Go's HTTP/2 server resets such a stream on its
// WriteTimeout with INTERNAL_ERROR; so do we.
//
// node counts no bytes sent per stream, so progress is read off the stream's write buffer: a write
// completes once nghttp2 framed all of it, which it does only as the client's window allows. While
// bytes wait, the buffer only shrinks (or 'drain' fires, after which it may fill again) when the
// client took some; it grows when the app sent more, which is no progress of the client's.
// Progress is seen a whole write (up to 64 KiB) at a time: a client taking less than that in
// `timeoutMs` is cut, as a socket whose kernel buffer is full is on the fast path.
import http2 from 'node:http2';
import { Sweep } from './sweep.js';

interface StreamProgress { length: number; drained: boolean; since: number }

export class StreamSendWatch {
  private readonly watch: Sweep<http2.ServerHttp2Stream, StreamProgress>;

  constructor(private readonly timeoutMs: number, private readonly onCut: (stream: http2.ServerHttp2Stream) => void) {
    this.watch = new Sweep(timeoutMs, (s, p, now) => this.check(s, p, now));
  }

  add(stream: http2.ServerHttp2Stream): void {
    const p: StreamProgress = { length: 0, drained: false, since: 0 };
    if (this.watch.add(stream, p)) stream.on('drain', () => { p.drained = true; });
  }

  /** Resets the streams whose client took none of their waiting bytes since timeoutMs ago. */
  sweep(now: number): void { this.watch.run(now); }

  private check(s: http2.ServerHttp2Stream, p: StreamProgress, now: number): void {
    const length = s.writableLength;
    if (length === 0) { p.since = 0; return; }
    const took = p.since === 0 || p.drained || length < p.length;
    p.length = length;
    p.drained = false;
    if (took) p.since = now;
    else if (now - p.since >= this.timeoutMs && !s.destroyed) {
      this.onCut(s);
      s.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  }
}
