// One operator warning for a failure that may repeat many times a second (an accept the kernel
// refuses, a DNS packet it will not receive or send): a `warn` line for the first, then at most one
// every WARNING_EVERY_MS with the count since the first, and an `info` line once none came for
// `quietMs` (docs/errors.md § The proxy while running). A line per failure would flood the log
// with the same sentence and hide everything else.
import type { Logger } from 'pino';
import type { ProxyWarningCode } from './operator-warnings.js';

export const WARNING_EVERY_MS = 60_000;

/** Counts one failure; logs it when no warning of this kind was logged for WARNING_EVERY_MS. */
export type RareWarning = (fields: Record<string, unknown>, msg: string) => void;

/** `about` goes on every line (which listener or socket); `overMsg` is the info line's sentence. */
export function rareWarning(log: Logger, code: ProxyWarningCode, about: Record<string, unknown>, overMsg: string, quietMs = WARNING_EVERY_MS): RareWarning {
  let bout: { since: number; lastAt: number; count: number; timer: NodeJS.Timeout } | null = null;
  let lastWarnedAt = -Infinity;
  const over = () => {
    const b = bout!;
    if (Date.now() - b.lastAt < quietMs) { b.timer = setTimeout(over, quietMs - (Date.now() - b.lastAt)).unref(); return; }
    bout = null;
    log.info({ code, ...about, failed: b.count, ms: b.lastAt - b.since }, overMsg);
  };
  return (fields, msg) => {
    const now = Date.now();
    bout ??= { since: now, lastAt: now, count: 0, timer: setTimeout(over, quietMs).unref() };
    bout.lastAt = now;
    bout.count++;
    if (now - lastWarnedAt < WARNING_EVERY_MS) return;
    lastWarnedAt = now;
    log.warn({ code, ...about, ...fields, failed: bout.count, since: new Date(bout.since).toISOString() }, msg);
  };
}
