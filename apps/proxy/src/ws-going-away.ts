// A stopping proxy (SIGTERM, a SIGHUP reload replacing the worker, a handover to a new process)
// closes the WebSockets it relays with a Close frame, 1001 "going away", to both ends — as Caddy
// does on reload — rather than cutting the TCP connection, which browsers and `ws` report as an
// abnormal 1006 (wasClean false) and many client libraries treat as an error, not a routine
// reconnect. A frame cannot be put in the middle of another, so each direction's frame boundaries
// are tracked (headers only; payloads are skipped by length) and the Close goes in at the next one.
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';

/** Bytes of a frame header once its first two bytes are known (RFC 6455 §5.2). */
function headerLength(b0: number, b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/** Where frames end in one direction of a WebSocket. */
export class FrameBoundaries {
  private head: number[] = [];
  private left = 0;

  get atBoundary(): boolean { return this.head.length === 0 && this.left === 0; }

  /** Consumes `chunk` (or, with `stop`, only up to the next boundary); returns the bytes consumed. */
  feed(chunk: Uint8Array, stop = false): number {
    let i = 0;
    while (i < chunk.length) {
      if (stop && this.atBoundary) return i;
      if (this.left > 0) { const n = Math.min(this.left, chunk.length - i); this.left -= n; i += n; continue; }
      this.head.push(chunk[i++]!);
      const h = this.head;
      if (h.length < 2 || h.length < headerLength(h[0]!, h[1]!)) continue;
      const len7 = h[1]! & 0x7f;
      let len = len7 === 126 ? (h[2]! << 8) | h[3]! : len7 === 127 ? 0 : len7;
      if (len7 === 127) for (let k = 2; k < 10; k++) len = len * 256 + h[k]!;
      this.left = len;
      this.head = [];
    }
    return i;
  }
}

/** A Close frame with status 1001; `masked` for frames a client sends (to the app). */
export function goingAwayFrame(masked: boolean): Buffer {
  const payload = Buffer.from([0x03, 0xe9]); // 1001
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
  // RFC 6455 §5.3: a fresh, unpredictable key per frame, even for this fixed payload.
  const mask = crypto.randomBytes(4);
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
}

/** How long both ends get to answer the Close and hang up before they are cut. */
const GOING_AWAY_GRACE_MS = 2000;

/**
 * Tracks both directions of a WebSocket tunnel (call before tunnel() pipes them; `sent` = bytes
 * written to each side outside the pipes: the handshake's leftovers) and returns what, when the
 * proxy stops, sends both ends the Close frame.
 */
export function goingAway(client: Duplex, upstream: Duplex, sent: { toClient: Buffer; toUpstream: Buffer }): () => void {
  const toClient = new FrameBoundaries();
  const toUpstream = new FrameBoundaries();
  toClient.feed(sent.toClient);
  toUpstream.feed(sent.toUpstream);
  const fromUp = (c: Buffer) => toClient.feed(c);
  const fromClient = (c: Buffer) => toUpstream.feed(c);
  upstream.on('data', fromUp);
  client.on('data', fromClient);
  /** Stops relaying `src` → `dst` at the next frame boundary, then sends `dst` the Close and ends it. */
  const closeTowards = (src: Duplex, dst: Duplex, frames: FrameBoundaries, masked: boolean, track: (c: Buffer) => number) => {
    src.unpipe(dst);
    src.off('data', track);
    let done = false;
    const finish = () => { done = true; if (!dst.destroyed && !dst.writableEnded) dst.end(goingAwayFrame(masked)); };
    // What `src` still sends: the rest of the frame under way goes out, anything after it (the
    // peer's answering Close included) is read and dropped, so its FIN is seen rather than reset.
    src.on('data', (c: Buffer) => {
      if (done) return;
      const n = frames.feed(c, true);
      if (n > 0 && !dst.destroyed && !dst.writableEnded) dst.write(c.subarray(0, n));
      if (frames.atBoundary) finish();
    });
    src.resume(); // unpipe() paused it
    if (frames.atBoundary) finish();
  };
  return () => {
    closeTowards(upstream, client, toClient, false, fromUp);
    closeTowards(client, upstream, toUpstream, true, fromClient);
    setTimeout(() => { client.destroy(); upstream.destroy(); }, GOING_AWAY_GRACE_MS).unref();
  };
}
