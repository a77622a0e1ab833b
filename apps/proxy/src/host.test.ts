import { describe, expect, it } from 'vitest';
import { normalizeHost } from './host.js';

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
