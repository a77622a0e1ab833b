import { describe, expect, it } from 'vitest';
import { sortableTime } from './prune.js';

describe('sortableTime', () => {
  it('orders timestamps whose fractions have different lengths', () => {
    const a = '2026-01-01T00:00:00.1234Z';
    const b = '2026-01-01T00:00:00.12345Z';
    expect(a < b).toBe(false); // the raw strings sort wrongly
    expect(sortableTime(a) < sortableTime(b)).toBe(true);
    expect(sortableTime('2026-01-01T00:00:01Z')).toBe('2026-01-01T00:00:01.000000000Z');
  });
});
