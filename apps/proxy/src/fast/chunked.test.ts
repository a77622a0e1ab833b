import { describe, expect, it } from 'vitest';
import { ChunkedScanner } from './chunked.js';

const body = Buffer.from('5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n');

describe('ChunkedScanner', () => {
  it('finds the end of a body in one buffer and leaves what follows', () => {
    const buf = Buffer.concat([body, Buffer.from('HTTP/1.1 200 OK')]);
    expect(new ChunkedScanner().feed(buf)).toBe(body.length);
  });

  it('finds the same end when fed one byte at a time', () => {
    const s = new ChunkedScanner();
    let end = -1;
    for (let i = 0; i < body.length && end < 0; i++) {
      end = s.feed(body.subarray(i, i + 1));
      if (end >= 0) expect(i).toBe(body.length - 1);
    }
    expect(end).toBe(1);
    expect(s.done).toBe(true);
  });

  it('needs more until the final empty line', () => {
    const s = new ChunkedScanner();
    expect(s.feed(Buffer.from('3\r\nabc\r\n0\r\n'))).toBe(-1);
    expect(s.feed(Buffer.from('\r\n'))).toBe(2);
  });

  it.each([
    ['a size that is not hex', 'zz\r\nab\r\n'],
    ['a missing size', '\r\nab\r\n'],
    ['data longer than its size', '2\r\nabc\r\n0\r\n\r\n'],
    ['a bare LF after the size', '2\nab\r\n'],
    ['a size of 16 hex digits', '1000000000000000\r\n'],
  ])('throws on %s', (_what, text) => {
    expect(() => new ChunkedScanner().feed(Buffer.from(text))).toThrow();
  });
});
