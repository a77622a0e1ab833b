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
  it('100 000 addresses of one /64 are one client; 150 000 IPv4 addresses keep 100 000 windows', () => {
    const l = new FailureLimiter(20);
    for (let i = 0; i < 100_000; i++) l.fail(`2001:db8:1:2:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`, 1000);
    expect(l.size).toBe(1);
    expect(l.blocked('2001:db8:1:2:ffff::1', 1001)).toBe(true);
    const v4 = new FailureLimiter(1);
    for (let i = 0; i < 150_000; i++) v4.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1000);
    expect(v4.size).toBe(100_000);
    expect(v4.blocked('10.2.73.239', 1001)).toBe(true); // the last one (149 999)
  });
});
