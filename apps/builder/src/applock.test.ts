import { describe, expect, it } from 'vitest';
import { AppLocks } from './applock.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AppLocks', () => {
  it('runs builds of one app one after another and of different apps together', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const job = (app: string, id: string, ms: number) => locks.run(app, async () => { log.push(`${id}+`); await tick(ms); log.push(`${id}-`); return id; });
    const results = await Promise.all([job('a', 'a1', 30), job('a', 'a2', 5), job('b', 'b1', 5)]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('a2+')).toBeGreaterThan(log.indexOf('a1-'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
  });

  it('a failed build releases the lock', async () => {
    const locks = new AppLocks();
    await expect(locks.run('a', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(locks.run('a', async () => 'next')).resolves.toBe('next');
  });
});
