// Pure renewal policy: when a certificate is due, how long to wait after failures, and how many
// orders one ACME account may place. Time comes from an injectable clock so tests can move it.

export interface Clock { now(): number }
export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t = Date.now()) {}
  now(): number { return this.t; }
  advance(ms: number): void { this.t += ms; }
  set(ms: number): void { this.t = ms; }
}

export interface Lifetime { notBefore: Date | string; notAfter: Date | string; ariRenewAt?: Date | string }

/**
 * When to renew: the CA's ARI suggestion when it gave one (never later than expiry), otherwise
 * when a third of the lifetime is left (a 90-day certificate renews at day 60).
 */
export function renewAt(c: Lifetime): number {
  const nb = new Date(c.notBefore).getTime();
  const na = new Date(c.notAfter).getTime();
  if (c.ariRenewAt) {
    const ari = new Date(c.ariRenewAt).getTime();
    if (Number.isFinite(ari) && ari < na) return ari;
  }
  return na - (na - nb) / 3;
}

export interface BackoffPolicy { minMs: number; maxMs: number }
/** Minutes → hours: 1 min, 2, 4, … capped at 6 h, like certmagic's retry schedule. */
export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 60_000, maxMs: 6 * 3600_000 };

/** Delay before attempt number `failures + 1` after `failures` consecutive failures (≥ 1). */
export function backoffMs(failures: number, p: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  return Math.min(p.maxMs, p.minMs * 2 ** Math.min(failures - 1, 30));
}

/**
 * Per-account order throttle: at most `max` orders in any `windowMs` (Let's Encrypt allows 300
 * new orders per 3 h per account; we stay well under it). Counts an order starting at `now` in
 * `starts` (pruned in place) and returns 0, or how many ms until one may start (nothing counted).
 * The account's record lives on disk (throttle.ts): every process on the data dir shares it.
 */
export function takeOrderSlot(starts: number[], max: number, windowMs: number, now: number): number {
  starts.sort((a, b) => a - b);
  while (starts.length && starts[0]! <= now - windowMs) starts.shift();
  // A clock set back leaves starts "in the future": never wait longer than one window for them.
  if (starts.length >= max) return Math.min(windowMs, starts[starts.length - max]! + windowMs - now);
  starts.push(now);
  return 0;
}

/** The same window in memory (one process). */
export class OrderThrottle {
  private readonly starts: number[] = [];
  constructor(readonly max: number, readonly windowMs: number, private readonly clock: Clock = systemClock) {}
  take(): number { return takeOrderSlot(this.starts, this.max, this.windowMs, this.clock.now()); }
}
