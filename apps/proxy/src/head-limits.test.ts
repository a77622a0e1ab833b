import { describe, expect, it } from 'vitest';
import { parseRequestHead } from './fast/head.js';
import { parseResponseHead } from './fast/response-head.js';
import { MAX_REQUEST_HEAD, requestHeadSize, requestHeadTooLarge, responseFieldsSize } from './head-limits.js';

describe('the request head count', () => {
  it('counts the request line and `name: value` CRLF per field, as the HTTP/1.1 text', () => {
    const raw = ['Host', 'a.dream', 'X-Empty', '', 'Cookie', 'a=1'];
    const text = 'GET /p?q=1 HTTP/1.1\r\nHost: a.dream\r\nX-Empty: \r\nCookie: a=1\r\n';
    expect(requestHeadSize('GET', '/p?q=1', raw)).toBe(text.length);
  });

  it('counts an HTTP/2 request as the HTTP/1.1 request it stands for: :authority as a host field, other pseudo-headers not at all', () => {
    const h1 = requestHeadSize('GET', '/p', ['Host', 'a.dream', 'accept', '*/*']);
    expect(requestHeadSize('GET', '/p', [':method', 'GET', ':scheme', 'https', ':authority', 'a.dream', ':path', '/p', 'accept', '*/*'])).toBe(h1);
  });

  it('does not count the spaces and tabs around a value (undici keeps trailing ones), only those', () => {
    expect(requestHeadSize('GET', '/', ['a', ' \tv \t'])).toBe(requestHeadSize('GET', '/', ['a', 'v']));
    expect(responseFieldsSize(['a', 'v  '])).toBe(responseFieldsSize({ a: 'v' }));
    expect(responseFieldsSize({ a: 'v\xa0' })).toBe(7);
  });

  it('holds a request to 16,384 bytes exactly', () => {
    const at = (size: number) => ({ method: 'GET', url: '/', rawHeaders: ['host', 'a', 'x', 'v'.repeat(size - 16 - 9 - 5)] });
    expect(requestHeadSize('GET', '/', at(MAX_REQUEST_HEAD).rawHeaders)).toBe(MAX_REQUEST_HEAD);
    expect([requestHeadTooLarge(at(MAX_REQUEST_HEAD)), requestHeadTooLarge(at(MAX_REQUEST_HEAD + 1))]).toEqual([false, true]);
  });
});

describe('the fast path counts as the rule does', () => {
  it('leaves a head to node:http (→ 431) when the rule counts it over the limit, though it is shorter as sent (`name:value`)', () => {
    const fields = (sep: string) => Array.from({ length: 1900 }, (_, i) => `x${i.toString(36).padStart(3, '0')}${sep}v`);
    // 1900 × 8 bytes as sent (`x000:v` CRLF), 1900 × 9 as the rule counts them (`x000: v` CRLF).
    const tight = ['GET / HTTP/1.1', 'Host: a', ...fields(':')].join('\r\n');
    expect(tight.length).toBeLessThan(MAX_REQUEST_HEAD);
    expect(parseRequestHead(tight)).toBeNull();
    expect(parseRequestHead(['GET / HTTP/1.1', 'Host: a', ...fields(':').slice(0, 1500)].join('\r\n'))).not.toBeNull();
  });

  it('counts a response\'s fields as responseFieldsSize does (values trimmed of spaces and tabs)', () => {
    const text = 'HTTP/1.1 200 Some Reason\r\nContent-Length: 0\r\nX-A:v\r\nX-B: \t w \t\r\nX-Empty:';
    const head = parseResponseHead(Buffer.from(`${text}\r\n\r\n`, 'latin1'), text.length, 'GET');
    expect(head!.fieldsSize).toBe(responseFieldsSize(['Content-Length', '0', 'X-A', 'v', 'X-B', 'w', 'X-Empty', '']));
    expect(head!.fieldsSize).toBe('Content-Length: 0\r\nX-A: v\r\nX-B: w\r\nX-Empty: \r\n'.length);
  });
});
