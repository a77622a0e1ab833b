import { describe, expect, it } from 'vitest';
import { FailureLimiter } from './limiter.js';

describe('FailureLimiter', () => {
  it('blocks an address after N failures within a minute, and only that address', () => {
    const l = new FailureLimiter(3);
    for (let i = 0; i < 3; i++) { expect(l.blocked('a', 1000)).toBe(false); l.fail('a', 1000 + i); }
    expect(l.blocked('a', 2000)).toBe(true);
    expect(l.blocked('b', 2000)).toBe(false);
    expect(l.blocked('a', 61_000)).toBe(false);
  });
  it('keeps memory bounded', () => {
    const l = new FailureLimiter(1, 60_000, 2);
    l.fail('a', 0); l.fail('b', 0); l.fail('c', 0);
    expect(l.blocked('a', 1)).toBe(false);
    expect(l.blocked('c', 1)).toBe(true);
  });
});
