// The route table's proxy bookkeeping over time: a proxy that dies without a goodbye holds up
// switches for at most PROXY_TTL_MS (then it is no longer waited for), one that keeps polling is
// never dropped, and the TTL counts from the last poll seen, also across an api restart (the real
// SQLite registry). Fake timers stand in for the minute each case would take.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDb } from '../db/open.js';
import { ProxiesRepo } from '../db/proxies.js';
import { PROXY_TTL_MS, RouteTable } from './table.js';

beforeEach(() => { vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] }); });
afterEach(() => { vi.useRealTimers(); });

const ep = [{ host: '10.0.0.2', port: 3000 }];

/** Settles the wait: true/false once resolved, 'waiting' before. */
function track(p: Promise<boolean>): () => boolean | 'waiting' {
  let v: boolean | 'waiting' = 'waiting';
  void p.then((r) => { v = r; });
  return () => v;
}

describe('RouteTable: proxies that stop polling', () => {
  it('a proxy that died silently is waited for until PROXY_TTL_MS after its last poll, then no longer', async () => {
    const t = new RouteTable();
    await t.poll('p1', 0, 0);
    t.ack('p1', t.snapshot().version);
    await vi.advanceTimersByTimeAsync(10_000);
    // p1 is gone (no goodbye). A switch now waits for its ack, but not past its TTL.
    const v = t.set('web', ['web.dream'], ep);
    const done = track(t.waitForAcks(v, 5 * PROXY_TTL_MS));
    await vi.advanceTimersByTimeAsync(PROXY_TTL_MS - 10_000 - 1_500);
    expect(done()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(done()).toBe(true);
    // A later switch does not wait for it at all.
    expect(await t.waitForAcks(t.set('web', ['web.dream'], []), 10)).toBe(true);
  });

  it('a proxy that keeps polling but has not acked is still waited for after the TTL (the wait times out instead)', async () => {
    const t = new RouteTable();
    await t.poll('p1', 0, 0);
    const v = t.set('web', ['web.dream'], ep);
    const done = track(t.waitForAcks(v, 3 * PROXY_TTL_MS));
    for (let s = 0; s < 2.5 * PROXY_TTL_MS; s += 20_000) {
      await t.poll('p1', 0, 0); // answered at once: its version is behind
      await vi.advanceTimersByTimeAsync(20_000);
    }
    expect(done()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(PROXY_TTL_MS);
    expect(done()).toBe(false);
    t.ack('p1', v);
    expect(await t.waitForAcks(v, 10)).toBe(true);
  });

  it('after an api restart a proxy seen 50 s before is waited for until 60 s after that poll, one seen 70 s before not at all', async () => {
    const db = openDb(':memory:');
    const registry = new ProxiesRepo(db);
    const before = new RouteTable({ registry });
    await before.poll('old', 0, 0);
    await vi.advanceTimersByTimeAsync(20_000);
    await before.poll('recent', 0, 0);
    await vi.advanceTimersByTimeAsync(50_000);
    // The api restarts: a new table on the same database. 'old' was last seen 70 s ago, 'recent' 50 s.
    const after = new RouteTable({ registry });
    const v = after.set('web', ['web.dream'], ep);
    const done = track(after.waitForAcks(v, 5 * PROXY_TTL_MS));
    await vi.advanceTimersByTimeAsync(8_000);
    expect(done()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(4_000);
    expect(done()).toBe(true);
    db.close();
  });

  it('a proxy that said goodbye is not waited for, and its own late poll does not bring it back', async () => {
    const t = new RouteTable();
    await t.poll('p1', 0, 0);
    t.leave('p1');
    await t.poll('p1', 0, 0);
    expect(await t.waitForAcks(t.set('web', ['web.dream'], ep), 10)).toBe(true);
  });
});
