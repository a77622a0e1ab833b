// One operator warning for a failure that may repeat many times a second (an accept the kernel
// refuses, a DNS packet it will not receive or send): a `warn` line for the first, then at most one
// every WARNING_EVERY_MS with the count since the first, and an `info` line once none came for
// `quietMs` (docs/errors.md § The proxy while running). A line per failure would flood the log
// with the same sentence and hide everything else.
import type { Logger } from 'pino';
import type { ProxyWarningCode } from './operator-warnings.js';

export const WARNING_EVERY_MS = 60_000;

/**
 * The bookkeeping of one kind of failure: the current run of them (a bout) and when a warning may
 * be logged again. Shared by rareWarning() and fd-limit.ts, whose bout ends when its probe finds
 * descriptors free rather than after a quiet spell.
 */
export class WarningBout {
  /** The current bout, or null between bouts. `count` is what the caller counts (failures, or some of them). */
  current: { since: number; lastAt: number; count: number; warned: boolean } | null = null;
  private lastWarnedAt = -Infinity;

  /**
   * Notes a failure at `now`, adding `n` to the bout's count. True when a warning is due: none was
   * logged for WARNING_EVERY_MS, across bouts too (a failure that comes back again and again is one
   * problem).
   */
  hit(now: number, n = 1): boolean {
    const b = (this.current ??= { since: now, lastAt: now, count: 0, warned: false });
    b.lastAt = now;
    b.count += n;
    if (now - this.lastWarnedAt < WARNING_EVERY_MS) return false;
    this.lastWarnedAt = now;
    b.warned = true;
    return true;
  }

  /** Ends the bout: returns it, for the line saying it is over (null if there was none). */
  end(): { since: number; lastAt: number; count: number; warned: boolean } | null {
    const b = this.current;
    this.current = null;
    return b;
  }
}

/** Counts one failure; logs it when no warning of this kind was logged for WARNING_EVERY_MS. */
export type RareWarning = (fields: Record<string, unknown>, msg: string) => void;

/** `about` goes on every line (which listener or socket); `overMsg` is the info line's sentence. */
export function rareWarning(log: Logger, code: ProxyWarningCode, about: Record<string, unknown>, overMsg: string, quietMs = WARNING_EVERY_MS): RareWarning {
  const bout = new WarningBout();
  const over = () => {
    const sinceLast = Date.now() - bout.current!.lastAt;
    if (sinceLast < quietMs) { setTimeout(over, quietMs - sinceLast).unref(); return; }
    const b = bout.end()!;
    log.info({ code, ...about, failed: b.count, ms: b.lastAt - b.since }, overMsg);
  };
  return (fields, msg) => {
    const now = Date.now();
    if (!bout.current) setTimeout(over, quietMs).unref();
    if (!bout.hit(now)) return;
    const b = bout.current!;
    log.warn({ code, ...about, ...fields, failed: b.count, since: new Date(b.since).toISOString() }, msg);
  };
}
