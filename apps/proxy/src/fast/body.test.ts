import { describe, expect, it } from 'vitest';
import { BodyEnd } from './body.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('BodyEnd', () => {
  it('counts a Content-Length body across reads and stops at its end', () => {
    const e = new BodyEnd({ kind: 'length', length: 5 });
    expect([e.feed(b('abc')), e.done]).toEqual([3, false]);
    expect([e.feed(b('deXTRA')), e.done]).toEqual([2, true]);
  });

  it('is done at once without a body', () => {
    expect(new BodyEnd({ kind: 'none' }).done).toBe(true);
    expect(new BodyEnd({ kind: 'length', length: 0 }).done).toBe(true);
  });

  it('finds the end of a chunked body split anywhere, trailers included', () => {
    const e = new BodyEnd({ kind: 'chunked' });
    expect([e.feed(b('3\r\nab')), e.done]).toEqual([5, false]);
    expect([e.feed(b('c\r\n0\r\nX-T: 1\r\n\r\nGET')), e.done]).toEqual([16, true]);
  });

  it('takes everything until the upstream closes', () => {
    const e = new BodyEnd({ kind: 'close' });
    expect([e.feed(b('x'.repeat(100))), e.done]).toEqual([100, false]);
  });

  it('throws on broken chunked framing', () => {
    expect(() => new BodyEnd({ kind: 'chunked' }).feed(b('zz\r\n'))).toThrow();
  });
});
