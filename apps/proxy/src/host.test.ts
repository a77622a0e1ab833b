import { describe, expect, it } from 'vitest';
import { normalizeHost, requestTarget } from './host.js';

describe('normalizeHost', () => {
  it.each([
    ['hello.dream', 'hello.dream'],
    ['Hello.DREAM', 'hello.dream'],
    ['hello.dream:8080', 'hello.dream'],
    ['hello.dream.', 'hello.dream'],
    ['HELLO.dream.:80', 'hello.dream'],
    ['  hello.dream ', 'hello.dream'],
    ['127.0.0.1:7080', '127.0.0.1'],
    ['[::1]:80', '[::1]'],
    ['[::1]', '[::1]'],
    ['localhost', 'localhost'],
  ])('%j → %j', (input, out) => expect(normalizeHost(input)).toBe(out));

  it.each([undefined, '', ':80', 'hello.dream:abc', 'hello..dream', 'a b', 'hello.dream/x', '[::1', '[::1]x', 'evil\r\nx', '.', 'x'.repeat(254)])(
    'rejects %j', (input) => expect(normalizeHost(input as string | undefined)).toBeNull(),
  );
});

describe('requestTarget', () => {
  it('keeps origin-form and converts absolute-form', () => {
    expect(requestTarget('/a?b=1', 'x.dream')).toEqual({ path: '/a?b=1', host: 'x.dream' });
    expect(requestTarget('http://Y.dream:80/abs?q=1', 'x.dream')).toEqual({ path: '/abs?q=1', host: 'Y.dream:80' });
    expect(requestTarget('http://y.dream?q', 'x.dream')).toEqual({ path: '/?q', host: 'y.dream' });
  });
  it.each(['*', 'y.dream:443', 'ftp://y/x', '', undefined])('refuses %j', (u) => expect(requestTarget(u, 'x')).toBeNull());
});
