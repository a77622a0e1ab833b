import { describe, expect, it } from 'vitest';
import { headEnd, MORE, NOT_FAST, parseRequestHead } from './head.js';

const req = (...lines: string[]) => parseRequestHead(lines.join('\r\n'));

describe('parseRequestHead (the fast path subset)', () => {
  it('parses a plain request like node would: lower-cased names, duplicates joined, cookies with "; "', () => {
    const h = req('GET /a?b=1 HTTP/1.1', 'Host: Hello.dream', 'Accept: a', 'ACCEPT: b', 'Cookie: x=1', 'cookie: y=2', 'Content-Length: 0', 'Connection: keep-alive, Close');
    expect(h).toEqual({
      method: 'GET', target: '/a?b=1', contentLength: 0, close: true,
      headers: { host: 'Hello.dream', accept: 'a, b', cookie: 'x=1; y=2', 'content-length': '0', connection: 'keep-alive, Close' },
    });
    expect(req('POST /x HTTP/1.1', 'Host: a', 'Content-Length: 12')?.contentLength).toBe(12);
  });

  it('takes a field named like an Object property (constructor, toString) as a field', () => {
    const h = req('GET / HTTP/1.1', 'Host: a', 'Constructor: x', 'toString: y', 'constructor: z');
    expect(h?.headers).toEqual({ host: 'a', constructor: 'x, z', tostring: 'y' });
  });

  it.each([
    ['HTTP/1.0', ['GET / HTTP/1.0', 'Host: a']],
    ['absolute-form target', ['GET http://a/ HTTP/1.1', 'Host: a']],
    ['asterisk target', ['OPTIONS * HTTP/1.1', 'Host: a']],
    ['CONNECT', ['CONNECT a:443 HTTP/1.1', 'Host: a']],
    ['no Host', ['GET / HTTP/1.1']],
    ['two Hosts', ['GET / HTTP/1.1', 'Host: a', 'Host: b']],
    ['Transfer-Encoding', ['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']],
    ['Content-Length and Transfer-Encoding', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Transfer-Encoding: chunked']],
    ['two Authorizations (node keeps the first)', ['GET / HTTP/1.1', 'Host: a', 'Authorization: Bearer a', 'authorization: Bearer b']],
    ['two Content-Lengths', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Content-Length: 3']],
    ['a Content-Length that is not digits', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: +3']],
    ['Upgrade', ['GET / HTTP/1.1', 'Host: a', 'Connection: Upgrade', 'Upgrade: websocket']],
    ['Expect', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Expect: 100-continue']],
    ['obs-fold', ['GET / HTTP/1.1', 'Host: a', 'X-A: 1', ' continued']],
    ['space before the colon', ['GET / HTTP/1.1', 'Host : a']],
    ['a control byte in a value', ['GET / HTTP/1.1', 'Host: a', 'X-A: a\x00b']],
    ['a bare LF inside a value', ['GET / HTTP/1.1', 'Host: a', 'X-A: a\nInjected: 1']],
    ['a space in the target', ['GET /a b HTTP/1.1', 'Host: a']],
    ['a method that is not a token', ['G(T / HTTP/1.1', 'Host: a']],
  ])('hands %s to node:http (null)', (_what, lines) => {
    expect(req(...lines)).toBeNull();
  });
});

describe('headEnd', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  it('finds the blank line, waits for more, and gives node:http what can never be a fast head', () => {
    expect(headEnd(b('GET / HTTP/1.1\r\nHost: a\r\n\r\nrest'))).toBe(23);
    expect(headEnd(b('GET / HTTP/1.1\r\nHost: a\r\n\r'))).toBe(MORE);
    expect(headEnd(b('GET / HTTP/1.1\nHost: a\n'))).toBe(NOT_FAST);
    expect(headEnd(b('GET / HTTP/1.1\r\nHost: a\n\r\n'))).toBe(NOT_FAST);
    expect(headEnd(b(`GET / HTTP/1.1\r\nX: ${'y'.repeat(17000)}`))).toBe(NOT_FAST);
    expect(headEnd(b(`GET / HTTP/1.1\r\nX: ${'y'.repeat(17000)}\r\n\r\n`))).toBe(NOT_FAST);
  });
});
