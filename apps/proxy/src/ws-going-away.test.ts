// FrameBoundaries: where a stopping proxy may put its Close frame in a relayed WebSocket stream.
import { describe, expect, it } from 'vitest';
import { FrameBoundaries, goingAwayFrame } from './ws-going-away.js';

/** A frame with `len` payload bytes (7-, 16- or 64-bit length), masked or not. */
function frame(len: number, masked: boolean): Buffer {
  const ext = len < 126 ? Buffer.alloc(0) : len < 65536 ? Buffer.alloc(2) : Buffer.alloc(8);
  if (ext.length === 2) ext.writeUInt16BE(len);
  if (ext.length === 8) ext.writeBigUInt64BE(BigInt(len));
  const len7 = ext.length === 0 ? len : ext.length === 2 ? 126 : 127;
  return Buffer.concat([Buffer.from([0x82, (masked ? 0x80 : 0) | len7]), ext, masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), Buffer.alloc(len, 7)]);
}

describe('FrameBoundaries', () => {
  it('follows 7-, 16- and 64-bit lengths, masked or not, fed one byte at a time', () => {
    for (const masked of [false, true]) {
      const f = new FrameBoundaries();
      const stream = Buffer.concat([frame(5, masked), frame(300, masked), frame(70_000, masked), frame(0, masked)]);
      const ends = new Set([frame(5, masked).length, frame(5, masked).length + frame(300, masked).length, stream.length - frame(0, masked).length, stream.length]);
      for (let i = 0; i < stream.length; i++) {
        f.feed(stream.subarray(i, i + 1));
        expect(f.atBoundary, `byte ${i + 1}`).toBe(ends.has(i + 1));
      }
    }
  });

  it('with stop, consumes only up to the end of the frame under way', () => {
    const f = new FrameBoundaries();
    const a = frame(200, false);
    const b = frame(10, false);
    f.feed(a.subarray(0, 3)); // a header split mid-way
    expect(f.feed(Buffer.concat([a.subarray(3), b]), true)).toBe(a.length - 3);
    expect(f.atBoundary).toBe(true);
    expect(f.feed(b, true)).toBe(0);
  });

  it('makes a 1001 Close frame a client or a server would send', () => {
    expect([...goingAwayFrame(false)]).toEqual([0x88, 2, 0x03, 0xe9]);
    const m = goingAwayFrame(true);
    expect(m[1]).toBe(0x82);
    expect([m[6]! ^ m[2]!, m[7]! ^ m[3]!]).toEqual([0x03, 0xe9]);
    // A fresh masking key each time (RFC 6455 §5.3), not a constant one.
    expect(goingAwayFrame(true).subarray(2, 6)).not.toEqual(m.subarray(2, 6));
  });
});
