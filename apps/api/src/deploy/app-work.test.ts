import { describe, expect, it } from 'vitest';
import { AppWork } from './app-work.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('AppWork', () => {
  it('runs one job per app at a time, in order; other apps do not wait', async () => {
    const w = new AppWork();
    const seen: string[] = [];
    let release!: () => void;
    const first = w.run('a', () => new Promise<void>((r) => { release = r; }).then(() => { seen.push('a1'); }));
    const second = w.run('a', async () => { seen.push('a2'); });
    await w.run('b', async () => { seen.push('b1'); });
    expect(seen).toEqual(['b1']);
    expect(w.busy('a')).toBe(true);
    release();
    await Promise.all([first, second]);
    expect(seen).toEqual(['b1', 'a1', 'a2']);
    await tick();
    expect(w.busy('a')).toBe(false);
  });

  it('tryRun skips an app that has a job running or waiting', async () => {
    const w = new AppWork();
    let release!: () => void;
    const job = w.run('a', () => new Promise<void>((r) => { release = r; }));
    await tick();
    expect(await w.tryRun('a', async () => 'ran')).toBeUndefined();
    release();
    await job;
    await tick();
    expect(await w.tryRun('a', async () => 'ran')).toBe('ran');
  });

  it('cancelThen aborts the running and the waiting jobs with the reason, then runs after them', async () => {
    const w = new AppWork();
    const order: string[] = [];
    const running = w.run('a', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => { order.push('running aborted'); reject(signal.reason); })));
    const waiting = w.run('a', async (signal) => { order.push(`waiting started, aborted=${signal.aborted}`); });
    await tick(); // the first job runs, the second waits
    const reason = new Error('deleted');
    await w.cancelThen('a', reason, 10_000, async () => { order.push('delete'); });
    await expect(running).rejects.toBe(reason);
    await waiting;
    expect(order).toEqual(['running aborted', 'waiting started, aborted=true', 'delete']);
    // A job queued after the cancellation is not cancelled: it runs after the deletion.
    expect(await w.run('a', async (signal) => signal.aborted)).toBe(false);
  });

  it('cancelThen waits at most waitMs for a job that ignores its signal', async () => {
    const w = new AppWork();
    let release!: () => void;
    const stuck = w.run('a', () => new Promise<void>((r) => { release = r; }));
    await tick();
    const t0 = Date.now();
    await w.cancelThen('a', new Error('deleted'), 50, async () => {});
    expect(Date.now() - t0).toBeLessThan(5_000);
    release();
    await stuck;
  });
});
