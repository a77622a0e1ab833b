import { describe, expect, it } from 'vitest';
import { BARE_LF, MORE, responseHeadEnd } from './response-head-end.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('responseHeadEnd', () => {
  it('finds the CRLFCRLF, or asks for more while every line ends in CRLF', () => {
    expect(responseHeadEnd(b('HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody'), 0)).toBe(21);
    expect(responseHeadEnd(b('HTTP/1.1 200 OK\r\nA: b\r\n'), 0)).toBe(MORE);
    expect(responseHeadEnd(b('HTTP/1.1 200 OK\r'), 0)).toBe(MORE);
  });

  it('knows at once that a head with a bare LF never ends', () => {
    expect(responseHeadEnd(b('HTTP/1.1 200 OK\nContent-Length: 2\n\nok'), 0)).toBe(BARE_LF);
    expect(responseHeadEnd(b('HTTP/1.1 200 OK\r\nA: b\n'), 0)).toBe(BARE_LF);
    expect(responseHeadEnd(b('\n'), 0)).toBe(BARE_LF);
  });

  it('looks only at the new bytes for LFs, but sees a CR just before them (a CRLF split across reads)', () => {
    const buf = b('HTTP/1.1 200 OK\r\nA: b\r');
    expect(responseHeadEnd(Buffer.concat([buf, b('\n')]), buf.length)).toBe(MORE);
    expect(responseHeadEnd(Buffer.concat([b('HTTP/1.1 200 OK\r\nA: b'), b('\n')]), 21)).toBe(BARE_LF);
  });
});
