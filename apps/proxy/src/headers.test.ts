import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, requestIdOf, upstreamRequestHead, upstreamRequestHeaders } from './headers.js';

describe('upstreamRequestHeaders', () => {
  it('overwrites client forwarding headers and strips hop-by-hop ones', () => {
    const h = upstreamRequestHeaders({
      host: 'hello.dream', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil', forwarded: 'for=6.6.6.6',
      connection: 'keep-alive, x-secret', 'x-secret': 's', 'keep-alive': 'timeout=5', te: 'trailers', 'transfer-encoding': 'chunked', accept: '*/*',
    }, { clientIp: '127.0.0.1', proto: 'http', host: 'hello.dream', port: 80, requestId: 'req-12345678' });
    expect(h).toEqual({
      host: 'hello.dream', accept: '*/*', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http',
      'x-forwarded-host': 'hello.dream', 'x-forwarded-port': '80', 'x-request-id': 'req-12345678',
    });
  });

  it('keeps Upgrade for WebSocket requests', () => {
    const h = upstreamRequestHeaders({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' },
      { clientIp: '::1', proto: 'https', host: 'a', port: 443, requestId: 'abcdefgh', upgrade: 'websocket' });
    expect(h).toMatchObject({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k', 'x-forwarded-proto': 'https' });
  });
});

describe('requestIdOf', () => {
  it('keeps a valid id and replaces an invalid one', () => {
    expect(requestIdOf({ 'x-request-id': 'abc-123-def' })).toBe('abc-123-def');
    expect(requestIdOf({ 'x-request-id': 'bad id\u0000' })).toMatch(/^[0-9a-f]{32}$/);
    expect(requestIdOf({})).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('clientResponseHeaders', () => {
  it('drops hop-by-hop headers and adds the request id', () => {
    expect(clientResponseHeaders({ connection: 'close', 'transfer-encoding': 'chunked', 'content-type': 'text/plain' }, 'rid-0001'))
      .toEqual({ 'content-type': 'text/plain', 'x-request-id': 'rid-0001' });
  });
});

describe('upstreamRequestHeaders for HTTP/2 and trusted proxies', () => {
  it('drops HTTP/2 pseudo-headers', () => {
    const h = upstreamRequestHeaders({ ':method': 'GET', ':path': '/x', ':authority': 'a.dream', ':scheme': 'https', accept: '*/*' } as never,
      { clientIp: '1.2.3.4', proto: 'https', host: 'a.dream', port: 443, requestId: 'abcdefgh' });
    expect(Object.keys(h).filter((k) => k.startsWith(':'))).toEqual([]);
    expect(h).toMatchObject({ host: 'a.dream', accept: '*/*', 'x-forwarded-proto': 'https' });
  });

  it('keeps a trusted peer\'s forwarding headers and appends the peer', () => {
    const h = upstreamRequestHeaders({ 'x-forwarded-for': '9.9.9.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example.com', 'x-real-ip': '9.9.9.9' },
      { clientIp: '10.0.0.2', proto: 'http', host: 'shop.dream', port: 80, requestId: 'abcdefgh', trusted: true });
    expect(h).toMatchObject({ 'x-forwarded-for': '9.9.9.9, 10.0.0.2', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example.com', 'x-real-ip': '9.9.9.9' });
  });

  it('appends our hop to a trusted peer\'s Forwarded on both request paths, makes none up, and drops an untrusted client\'s', () => {
    const f = { clientIp: '10.0.0.2', proto: 'https' as const, host: 'shop.dream', port: 443, requestId: 'abcdefgh', trusted: true };
    const incoming = { forwarded: 'for=9.9.9.9;proto=https' };
    const ours = 'for=9.9.9.9;proto=https, for=10.0.0.2;host=shop.dream;proto=https';
    expect(upstreamRequestHeaders(incoming, f).forwarded).toBe(ours);
    expect(upstreamRequestHead('GET', '/', incoming, f)).toContain(`\r\nforwarded: ${ours}\r\n`);
    expect(upstreamRequestHead('GET', '/', incoming, f).match(/forwarded:/g)).toHaveLength(1);
    // An IPv6 peer and a host with a port are quoted (RFC 7239 §6: neither is a token).
    const v6 = { ...f, clientIp: 'fd00::2', host: 'shop.dream:8443' };
    expect(upstreamRequestHeaders(incoming, v6).forwarded).toBe('for=9.9.9.9;proto=https, for="[fd00::2]";host="shop.dream:8443";proto=https');
    expect(upstreamRequestHeaders({}, f).forwarded).toBeUndefined();
    expect(upstreamRequestHead('GET', '/', {}, f)).not.toMatch(/forwarded:/);
    const untrusted = { ...f, trusted: false };
    expect(upstreamRequestHeaders(incoming, untrusted).forwarded).toBeUndefined();
    expect(upstreamRequestHead('GET', '/', incoming, untrusted)).not.toMatch(/^forwarded:/m);
  });

  it('drops underscore spellings of the forwarding fields, a trusted peer\'s too, on both request paths; keeps other underscore fields and the app\'s response fields', () => {
    const incoming = { 'x-forwarded-for': '9.9.9.9', x_forwarded_for: '6.6.6.6', 'x_real-ip': '6.6.6.6', x_request_id: 'spoof', x_other: 'kept' };
    const f = { clientIp: '10.0.0.2', proto: 'http' as const, host: 'shop.dream', port: 80, requestId: 'abcdefgh', trusted: true };
    expect(Object.keys(upstreamRequestHeaders(incoming, f)).filter((k) => k.includes('_'))).toEqual(['x_other']);
    expect(upstreamRequestHead('GET', '/', incoming, f)).not.toMatch(/6\.6\.6\.6|spoof/);
    expect(upstreamRequestHead('GET', '/', incoming, f)).toMatch(/\r\nx-forwarded-for: 9\.9\.9\.9, 10\.0\.0\.2\r\n/);
    expect(clientResponseHeaders({ x_forwarded_for: 'app' }, 'abcdefgh')).toMatchObject({ x_forwarded_for: 'app' });
  });
});
