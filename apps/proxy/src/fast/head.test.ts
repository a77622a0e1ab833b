import { describe, expect, it } from 'vitest';
import { parseRequestHead, parseResponseHead } from './head.js';

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

  it.each([
    ['HTTP/1.0', ['GET / HTTP/1.0', 'Host: a']],
    ['absolute-form target', ['GET http://a/ HTTP/1.1', 'Host: a']],
    ['asterisk target', ['OPTIONS * HTTP/1.1', 'Host: a']],
    ['CONNECT', ['CONNECT a:443 HTTP/1.1', 'Host: a']],
    ['no Host', ['GET / HTTP/1.1']],
    ['two Hosts', ['GET / HTTP/1.1', 'Host: a', 'Host: b']],
    ['Transfer-Encoding', ['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']],
    ['Content-Length and Transfer-Encoding', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Transfer-Encoding: chunked']],
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

describe('parseResponseHead', () => {
  const res = (method: string, ...lines: string[]) => parseResponseHead(lines.join('\r\n'), method);

  it('frames by Content-Length, keeps names as sent and lists Connection tokens', () => {
    const r = res('GET', 'HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Content-Length: 5', 'Connection: keep-alive, X-Secret');
    expect(r).toMatchObject({ status: 200, reason: 'OK', framing: { kind: 'length', length: 5 }, close: false, connectionListed: ['keep-alive', 'x-secret'] });
    expect([r!.names[0], r!.lower[0], r!.values[0]]).toEqual(['Content-Type', 'content-type', 'text/plain']);
  });

  it('takes a status line with an empty or missing reason phrase', () => {
    expect(res('GET', 'HTTP/1.1 201', 'Content-Length: 0')).toMatchObject({ status: 201, reason: '' });
    expect(res('GET', 'HTTP/1.0 404 ', 'Content-Length: 0')).toMatchObject({ status: 404, reason: '' });
    expect(res('GET', 'HTTP/1.1 500 Internal Server Error', 'Content-Length: 0')).toMatchObject({ status: 500, reason: 'Internal Server Error' });
  });

  it('knows which responses have no body', () => {
    expect(res('HEAD', 'HTTP/1.1 200 OK', 'Content-Length: 5')!.framing).toEqual({ kind: 'none' });
    expect(res('GET', 'HTTP/1.1 204 No Content')!.framing).toEqual({ kind: 'none' });
    expect(res('GET', 'HTTP/1.1 304 Not Modified', 'Content-Length: 9')!.framing).toEqual({ kind: 'none' });
    expect(res('GET', 'HTTP/1.1 103 Early Hints', 'Link: </a.css>')!.framing).toEqual({ kind: 'none' });
  });

  it('chunked wins over Content-Length, and such a connection is not reused', () => {
    expect(res('GET', 'HTTP/1.1 200 OK', 'Transfer-Encoding: chunked')).toMatchObject({ framing: { kind: 'chunked' }, close: false });
    expect(res('GET', 'HTTP/1.1 200 OK', 'Content-Length: 3', 'Transfer-Encoding: chunked')).toMatchObject({ framing: { kind: 'chunked' }, close: true });
    expect(res('GET', 'HTTP/1.1 200 OK', 'Transfer-Encoding: gzip')!.framing).toEqual({ kind: 'close' });
  });

  it('reads until close without a length; HTTP/1.0 closes unless it says keep-alive', () => {
    expect(res('GET', 'HTTP/1.1 200 OK')!.framing).toEqual({ kind: 'close' });
    expect(res('GET', 'HTTP/1.0 200 OK', 'Content-Length: 1')!.close).toBe(true);
    expect(res('GET', 'HTTP/1.0 200 OK', 'Content-Length: 1', 'Connection: keep-alive')!.close).toBe(false);
    expect(res('GET', 'HTTP/1.1 200 OK', 'Content-Length: 1', 'Connection: close')!.close).toBe(true);
  });

  it.each([
    ['a garbage status line', ['HTTP/2 200 OK']],
    ['an unknown minor version', ['HTTP/1.2 200 OK']],
    ['a four-digit status', ['HTTP/1.1 2000 OK']],
    ['a status glued to its reason', ['HTTP/1.1 200OK']],
    ['a letter in the status', ['HTTP/1.1 2x0 OK']],
    ['a NUL in the reason', ['HTTP/1.1 200 O\u0000K']],
    ['conflicting Content-Lengths', ['HTTP/1.1 200 OK', 'Content-Length: 1', 'Content-Length: 2']],
    ['a negative Content-Length', ['HTTP/1.1 200 OK', 'Content-Length: -1']],
    ['a header without a colon', ['HTTP/1.1 200 OK', 'Nonsense']],
    ['a CR-less injected line', ['HTTP/1.1 200 OK', 'X-A: 1\nSet-Cookie: evil=1']],
  ])('rejects %s (502 to the client)', (_what, lines) => {
    expect(res('GET', ...lines)).toBeNull();
  });
});
