// HTTP/2 frames that cost the server work but ask for nothing: PRIORITY (on idle streams) and
// WINDOW_UPDATE (to the connection or an open stream). nghttp2 handles them without a limit and
// node tells JS of neither, so a client writing them as fast as TLS carries them was never cut
// (measured, one connection: 8.7 M PRIORITY or 18 M WINDOW_UPDATE frames in 5 s, 0.14-0.31 s of
// CPU a second, for good). nginx closes such a connection by what it reads against what it gets
// out of it (a connection reading over 8 times its payload plus 1 MB is a "flood"; PRIORITY also
// has its own budget). The same here, per connection: bytes read off the socket against useful
// work — request body bytes handed to the handler, header bytes, a fixed allowance per stream,
// and a little for the responses written (a client downloading sends WINDOW_UPDATEs for them) —
// checked every 250 ms on one timer for all sessions (~0.4 µs a session), not per frame. A
// connection that read more than RATIO times its useful bytes plus a small floor per second, by
// over BURST bytes, gets GOAWAY ENHANCE_YOUR_CALM and is closed: a flood within two checks
// (measured 0.09-0.36 s; nginx 0.01-0.31 s). The excess never goes below 0: useful work excuses
// reads in the same check only, so a big upload earns no credit for a flood later, nor an idle spell.
import http2 from 'node:http2';

/** Read bytes each useful byte excuses (nginx: 8). */
export const H2_FLOOD_RATIO = 8;
/** Read bytes over what is excused a connection may have run up before it is cut (nginx: 1 MB). */
export const H2_FLOOD_BURST = 1 << 20;
/** Read bytes a second excused with nothing useful: PINGs, SETTINGS, a browser's PRIORITY frames. */
export const H2_FLOOD_FLOOR_PER_S = 64 * 1024;
/** Useful bytes a stream counts for beyond its header and body bytes (HEADERS framing, its RST_STREAM, trailers). */
export const H2_FLOOD_STREAM_ALLOWANCE = 1024;
/** Response bytes written per useful byte: a client sends ~13 bytes of WINDOW_UPDATE per 32 KB it reads. */
const WRITTEN_PER_USEFUL = 64;
/** Each check costs ~0.4 µs a session (10 000 sessions: 16 ms a second); a tighter one cuts a flood sooner. */
const CHECK_MS = 250;

const { NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

export interface FrameFloodCut { readBytes: number; usefulBytes: number }

interface Watched {
  session: http2.ServerHttp2Session;
  socket: { bytesRead: number; bytesWritten: number };
  read: number;
  written: number;
  /** Useful bytes (bodies, headers, stream allowances) since the last check. */
  useful: number;
  excess: number;
  onClose: (cut: FrameFloodCut) => void;
}

const watched = new Set<Watched>();
let timer: NodeJS.Timeout | undefined;
let last = 0;

function check(): void {
  const now = performance.now();
  const floor = (H2_FLOOD_FLOOR_PER_S * (now - last)) / 1000;
  last = now;
  for (const w of watched) {
    if (w.session.destroyed) continue;
    const read = w.socket.bytesRead;
    const written = w.socket.bytesWritten;
    const useful = w.useful + (written - w.written) / WRITTEN_PER_USEFUL;
    const readNow = read - w.read;
    w.read = read;
    w.written = written;
    w.useful = 0;
    w.excess = Math.max(0, w.excess + readNow - H2_FLOOD_RATIO * useful - floor);
    if (w.excess <= H2_FLOOD_BURST) continue;
    watched.delete(w);
    w.onClose({ readBytes: readNow, usefulBytes: Math.round(useful) });
    // As h2-resets.ts: destroy(err, code) sends GOAWAY with `code` and closes the socket.
    w.session.destroy(new Error('HTTP/2 frame flood'), NGHTTP2_ENHANCE_YOUR_CALM);
  }
  if (watched.size === 0) { clearInterval(timer); timer = undefined; }
}

/** Closes `session` (GOAWAY ENHANCE_YOUR_CALM) once it reads far more than it is useful for; `onClose` is told the last check's figures. */
export function closeOnFrameFlood(session: http2.ServerHttp2Session, onClose: (cut: FrameFloodCut) => void): void {
  // session.socket: node's guard around the TLS socket, whose bytesRead counts the decrypted bytes
  // nghttp2 is handed (every frame), bytesWritten those it sent.
  const socket = session.socket as unknown as Watched['socket'] | undefined;
  if (!socket) return;
  const w: Watched = { session, socket, read: socket.bytesRead, written: socket.bytesWritten, useful: 0, excess: 0, onClose };
  watched.add(w);
  session.once('close', () => watched.delete(w));
  session.on('stream', (stream: http2.ServerHttp2Stream, _headers: unknown, _flags: number, rawHeaders: string[]) => {
    // Header bytes as RFC 9113 §6.5.2 counts them (32 a field): a large cookie is useful.
    let size = H2_FLOOD_STREAM_ALLOWANCE;
    for (const f of rawHeaders) size += f.length + 16;
    w.useful += size;
    // Body bytes as node hands them to the stream. Counted where node pushes them, not with a
    // 'data' listener: that would start the stream flowing before the handler (forward.ts, a turn
    // later) is there, and its body would be lost.
    const push = stream.push;
    stream.push = function (chunk: unknown, encoding?: BufferEncoding): boolean {
      if (chunk) w.useful += (chunk as Buffer).length;
      return push.call(this, chunk, encoding);
    };
  });
  if (!timer) {
    last = performance.now();
    timer = setInterval(check, CHECK_MS);
    timer.unref();
  }
}
