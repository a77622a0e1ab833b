// Where a response body ends, by its framing (fast/head.ts): a length, chunked (scanned, never
// decoded: the bytes are forwarded as they are), or the upstream closing the connection.
import { ChunkedScanner } from './chunked.js';
import type { Framing } from './head.js';

export class BodyEnd {
  /** The body's last byte has been fed. */
  done: boolean;
  private left: number;
  private readonly chunked: ChunkedScanner | null;

  constructor(f: Framing) {
    this.left = f.kind === 'length' ? f.length : 0;
    this.chunked = f.kind === 'chunked' ? new ChunkedScanner() : null;
    this.done = f.kind === 'none' || (f.kind === 'length' && f.length === 0);
  }

  /** How many leading bytes of `b` belong to the body (throws on broken chunked framing). */
  feed(b: Buffer): number {
    if (this.chunked) {
      const end = this.chunked.feed(b);
      if (end < 0) return b.length;
      this.done = true;
      return end;
    }
    if (this.left === 0 && !this.done) return b.length; // until close
    const take = Math.min(this.left, b.length);
    this.left -= take;
    if (this.left === 0) this.done = true;
    return take;
  }
}
