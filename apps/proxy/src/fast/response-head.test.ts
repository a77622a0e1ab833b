import { describe, expect, it } from 'vitest';
import { CLOSE_FIELD, keepAliveField } from './connection-field.js';
import { clientResponseHead } from './client-head.js';
import { parseResponseHead } from './response-head.js';

describe('parseResponseHead', () => {
  const res = (method: string, ...lines: string[]) => {
    const text = lines.join('\r\n');
    return parseResponseHead(Buffer.from(`${text}\r\n\r\nbody`, 'latin1'), text.length, method);
  };

  it('frames by Content-Length, keeps names as sent and lists Connection tokens', () => {
    const r = res('GET', 'HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Content-Length: 5', 'Connection: keep-alive, X-Secret');
    expect(r).toMatchObject({ status: 200, reason: 'OK', framing: { kind: 'length', length: 5 }, close: false, connectionListed: ['keep-alive', 'x-secret'] });
    const f = r!.fields;
    expect([r!.count, r!.src.toString('latin1', f[0], f[1]), r!.src.toString('latin1', f[2], f[3])]).toEqual([3, 'Content-Type', 'text/plain']);
  });

  it('reads the idle timeout a Keep-Alive field announces (the pool stops reusing before it)', () => {
    const ka = (v?: string) => res('GET', 'HTTP/1.1 200 OK', 'Content-Length: 0', ...(v === undefined ? [] : [`Keep-Alive: ${v}`]))!.keepAliveMs;
    expect([ka(), ka('timeout=5'), ka('timeout=0'), ka('max=100, Timeout = 2'), ka('timeout='), ka('max=5'), ka('timeoutx=3, timeout=7')]).toEqual([-1, 5000, 0, 2000, -1, -1, 7000]);
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
    ['an LF-less line break', ['HTTP/1.1 200 OK', 'X-A: 1\rSet-Cookie: evil=1']],
    ['a space before the colon', ['HTTP/1.1 200 OK', 'X-A : 1']],
    ['a DEL in a value', ['HTTP/1.1 200 OK', 'X-A: 1\u007f']],
    ['an empty Content-Length', ['HTTP/1.1 200 OK', 'Content-Length: ']],
  ])('rejects %s (502 to the client)', (_what, lines) => {
    expect(res('GET', ...lines)).toBeNull();
  });
});

describe('clientResponseHead', () => {
  const rewrite = (lines: string[], o: { chunked: boolean; connection: Buffer | null } = { chunked: false, connection: null }, rid = 'rid-1') => {
    const text = lines.join('\r\n');
    const src = Buffer.from(`${text}\r\n\r\n`, 'latin1');
    return clientResponseHead(parseResponseHead(src, text.length, 'GET')!, rid, o).toString('latin1');
  };

  it('keeps names and values as the app wrote them (trimmed), drops hop-by-hop fields, adds the request id', () => {
    expect(rewrite(['HTTP/1.1 200 OK', 'Content-Type:  text/plain ', 'Content-Length: 5', 'Connection: keep-alive', 'Keep-Alive: timeout=5', 'Set-Cookie: a=1', 'Set-Cookie: b=2']))
      .toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nx-request-id: rid-1\r\n\r\n');
  });

  it('drops the fields the Connection header lists, whatever their case', () => {
    expect(rewrite(['HTTP/1.1 200 OK', 'X-Secret: 1', 'Connection: keep-alive, x-SECRET', 'Content-Length: 0']))
      .toBe('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-request-id: rid-1\r\n\r\n');
  });

  it("keeps the app's own X-Request-Id, speaks HTTP/1.1 to an HTTP/1.0 app, and adds our framing and close last", () => {
    expect(rewrite(['HTTP/1.0 404 Not Found', 'X-Request-Id: app-id-123', 'Transfer-Encoding: chunked'], { chunked: true, connection: CLOSE_FIELD }))
      .toBe('HTTP/1.1 404 Not Found\r\nX-Request-Id: app-id-123\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n');
    expect(rewrite(['HTTP/1.1 204'])).toBe('HTTP/1.1 204 \r\nx-request-id: rid-1\r\n\r\n');
  });

  it("replaces the app's Keep-Alive with our own idle timeout on a connection we keep", () => {
    expect(rewrite(['HTTP/1.1 200 OK', 'Keep-Alive: timeout=60', 'Content-Length: 0'], { chunked: false, connection: keepAliveField(5000) }))
      .toBe('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-request-id: rid-1\r\nkeep-alive: timeout=5\r\n\r\n');
    expect(keepAliveField(5999).toString()).toBe('keep-alive: timeout=5\r\n');
    expect(keepAliveField(5000)).toBe(keepAliveField(5000));
  });

  it('handles a head with more fields than its scratch space', () => {
    const many = Array.from({ length: 100 }, (_, i) => `X-F${i}: v${i}`);
    const out = rewrite(['HTTP/1.1 200 OK', ...many, 'Content-Length: 0']);
    expect(out.split('\r\n')).toHaveLength(1 + 100 + 1 + 1 + 2);
    expect(out).toContain('X-F99: v99\r\nContent-Length: 0\r\nx-request-id: rid-1\r\n\r\n');
  });
});
