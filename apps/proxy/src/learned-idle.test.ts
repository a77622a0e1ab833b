import { describe, expect, it } from 'vitest';
import { LearnedIdleTimeouts } from './learned-idle.js';

describe('LearnedIdleTimeouts', () => {
  it('keeps the shortest idle close seen per endpoint; ignores closes too quick to be an idle timer; forgets after 10 minutes', () => {
    const l = new LearnedIdleTimeouts();
    const t0 = 1_000_000;
    expect(l.observe('a:1', t0, t0 + 50)).toBeUndefined(); // a restart or Connection: close, not a timer
    expect(l.get('a:1', t0 + 50)).toBeUndefined();
    expect(l.observe('a:1', t0, t0 + 2_300)).toBe(2_300);
    expect(l.observe('a:1', t0, t0 + 5_000)).toBe(2_300);
    expect(l.observe('a:1', t0, t0 + 2_100)).toBe(2_100);
    expect(l.get('a:1', t0 + 60_000)).toBe(2_100);
    expect(l.get('b:1', t0)).toBeUndefined();
    expect(l.get('a:1', t0 + 2_100 + 10 * 60_000)).toBeUndefined();
    l.observe('c:1', t0, t0 + 1_000);
    l.sweep(t0 + 1_000 + 10 * 60_000);
    expect(l.get('c:1', t0)).toBeUndefined();
  });
});
