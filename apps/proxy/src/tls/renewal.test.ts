import { describe, expect, it } from 'vitest';
import { backoffMs, ManualClock, OrderThrottle, renewAt } from './renewal.js';

describe('renewal policy', () => {
  it('renews a 90-day certificate with 30 days left', () => {
    const nb = new Date('2030-01-01T00:00:00Z');
    const na = new Date(nb.getTime() + 90 * 86_400_000);
    expect(new Date(renewAt({ notBefore: nb, notAfter: na })).toISOString()).toBe('2030-03-02T00:00:00.000Z');
  });

  it('prefers the CA renewal window (ARI), but never after expiry', () => {
    const lt = { notBefore: '2030-01-01T00:00:00Z', notAfter: '2030-04-01T00:00:00Z' };
    expect(renewAt({ ...lt, ariRenewAt: '2030-01-10T00:00:00Z' })).toBe(Date.parse('2030-01-10T00:00:00Z'));
    expect(renewAt({ ...lt, ariRenewAt: '2031-01-01T00:00:00Z' })).toBe(renewAt(lt));
  });

  it('backs off exponentially from minutes to hours', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n) / 60_000)).toEqual([1, 2, 4, 8]);
    expect(backoffMs(50)).toBe(6 * 3600_000);
    expect(backoffMs(0)).toBe(0);
  });

  it('throttles orders per account in a sliding window', () => {
    const clock = new ManualClock(0);
    const t = new OrderThrottle(2, 1000, clock);
    expect(t.take()).toBe(0);
    clock.advance(100);
    expect(t.take()).toBe(0);
    expect(t.take()).toBe(900);
    clock.advance(900);
    expect(t.take()).toBe(0);
  });
});
