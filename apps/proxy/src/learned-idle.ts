// The idle timeout an app enforces without announcing it (gunicorn closes idle connections after
// 2 s, uvicorn after 5, many servers with no Keep-Alive field), learned from the app closing one of
// our idle pooled connections: that close took as long as the app's timer plus the trip of its FIN.
// Pooled connections to that endpoint are then reused only up to KEEP_ALIVE_MARGIN_MS less, as for
// an announced timeout: by the fast path's pool (fast/pool.ts) and undici's (lazy-agent.ts), which
// learn into one instance. Without it a request reusing a connection just as the app's timer fires is
// reset, and a POST cannot be retried safely.
//
// An observation is kept LEARNED_FOR_MS, then learned again: one early close that was not the app's
// timer (a restart closing everything at once) only costs reuse for a while, never correctness.
const LEARNED_FOR_MS = 10 * 60_000;
// Below this a close is not an idle timer (no server times out keep-alive that fast): not learned.
const MIN_IDLE_MS = 100;

/**
 * How long before the app's idle timeout (announced or learned) we stop reusing a connection: the
 * app's timer and ours start at different moments (a response's last byte leaves it before it
 * reaches us) and its close takes a trip to arrive. undici keeps 2 s (its
 * keepAliveTimeoutThreshold); 1 s keeps node's default (timeout=5) at the 4 s the pools always used.
 */
export const KEEP_ALIVE_MARGIN_MS = 1000;

export class LearnedIdleTimeouts {
  private readonly byKey = new Map<string, { ms: number; at: number }>();

  /** An idle connection to `key`, idle since `idleSince`, was closed by the app at `now`; the new limit or undefined. */
  observe(key: string, idleSince: number, now: number): number | undefined {
    const ms = now - idleSince;
    if (ms < MIN_IDLE_MS) return undefined;
    const cur = this.get(key, now);
    if (cur === undefined || ms < cur) this.byKey.set(key, { ms, at: now });
    return Math.min(ms, cur ?? ms);
  }

  /** The learned idle timeout of `key` in ms, undefined when none (or it is stale). */
  get(key: string, now: number): number | undefined {
    const e = this.byKey.get(key);
    if (!e) return undefined;
    if (now - e.at < LEARNED_FOR_MS) return e.ms;
    this.byKey.delete(key);
    return undefined;
  }

  /**
   * How long an idle connection to `key` may be reused: `ceilingMs` (the pool's own limit, or what
   * the app announced less the margin), or less once its idle timeout was learned. 0 or less: never.
   */
  keepMs(key: string, now: number, ceilingMs: number): number {
    const learned = this.get(key, now);
    return learned === undefined ? ceilingMs : Math.min(ceilingMs, learned - KEEP_ALIVE_MARGIN_MS);
  }

  /** Forgets stale observations (endpoints long gone). */
  sweep(now: number): void {
    for (const [k, e] of this.byKey) if (now - e.at >= LEARNED_FOR_MS) this.byKey.delete(k);
  }
}
