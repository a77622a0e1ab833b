// Finds where a chunked body ends without decoding it (the fast path forwards the bytes as they
// came). Pure state machine, fed buffer by buffer. Strict: anything not RFC 9112 §7.1 is an error,
// and the connection is dropped rather than guessed at.

const enum S { Size, Ext, SizeLf, Data, DataCr, DataLf, TrailerStart, Trailer, TrailerLf, FinalLf, Done }

const MAX_SIZE_DIGITS = 15;
const MAX_TRAILER_BYTES = 16 * 1024;

export class ChunkedScanner {
  private s = S.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private trailerBytes = 0;

  get done(): boolean { return this.s === S.Done; }

  /**
   * Scans `buf` from `from`. Returns the index just past the body's last byte when it ends in this
   * buffer, -1 when more is needed, or throws on malformed framing.
   */
  feed(buf: Buffer, from = 0): number {
    let i = from;
    const n = buf.length;
    while (i < n) {
      switch (this.s) {
        case S.Data: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.s = S.DataCr;
          continue;
        }
        case S.Size: {
          const c = buf[i]!;
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new Error('chunk size too large');
            this.size = this.size * 16 + v;
          } else if (this.digits === 0) throw new Error('chunk size missing');
          else if (c === 13) this.s = S.SizeLf;
          else if (c === 59 /* ; */ || c === 32 || c === 9) this.s = S.Ext;
          else throw new Error('bad chunk size');
          break;
        }
        case S.Ext: {
          const c = buf[i]!;
          if (c === 13) this.s = S.SizeLf;
          else if (c === 10 || c === 0) throw new Error('bad chunk extension');
          break;
        }
        case S.SizeLf:
          if (buf[i] !== 10) throw new Error('bad chunk size line');
          if (this.size === 0) this.s = S.TrailerStart;
          else { this.remaining = this.size; this.s = S.Data; }
          this.size = 0;
          this.digits = 0;
          break;
        case S.DataCr:
          if (buf[i] !== 13) throw new Error('chunk data longer than its size');
          this.s = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i] !== 10) throw new Error('bad chunk terminator');
          this.s = S.Size;
          break;
        case S.TrailerStart:
          // An empty line ends the body; anything else is a trailer field line.
          if (buf[i] === 13) this.s = S.FinalLf;
          else { this.s = S.Trailer; continue; }
          break;
        case S.Trailer: {
          const c = buf[i]!;
          if (++this.trailerBytes > MAX_TRAILER_BYTES) throw new Error('trailers too large');
          if (c === 13) this.s = S.TrailerLf;
          else if (c === 10 || c === 0) throw new Error('bad trailer line');
          break;
        }
        case S.TrailerLf:
          if (buf[i] !== 10) throw new Error('bad trailer line');
          this.s = S.TrailerStart;
          break;
        case S.FinalLf:
          if (buf[i] !== 10) throw new Error('bad last chunk');
          this.s = S.Done;
          return i + 1;
        case S.Done:
          return i;
      }
      i++;
    }
    return -1;
  }
}
