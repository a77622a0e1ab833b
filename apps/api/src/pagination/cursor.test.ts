import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, toPage } from './cursor.js';

describe('cursor pagination', () => {
  it('round-trips keys and rejects foreign cursors', () => {
    expect(decodeCursor(encodeCursor('web'), 'string')).toBe('web');
    expect(decodeCursor(encodeCursor(42), 'number')).toBe(42);
    expect(decodeCursor(undefined, 'number')).toBeUndefined();
    expect(() => decodeCursor(encodeCursor('x'), 'number')).toThrow(/cursor/);
    expect(() => decodeCursor('bm90IGpzb24', 'string')).toThrow(/cursor/);
  });
  it('uses the extra row only to say there is more', () => {
    const p = toPage([1, 2, 3], 2, (r) => r, (r) => r * 10);
    expect(p.items).toEqual([10, 20]);
    expect(decodeCursor(p.nextCursor!, 'number')).toBe(2);
    expect(toPage([1, 2], 2, (r) => r, (r) => r).nextCursor).toBeNull();
  });
});
