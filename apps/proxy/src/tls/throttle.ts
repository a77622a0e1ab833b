// The per-account order throttle, kept on disk. Every process on one data dir orders with the same
// ACME account (the workers of a proxy, a sibling proxy, the next run after a restart): kept in
// memory, each counted only its own orders, so a proxy with N workers placed N times the limit
// (45 orders in a minute from 2 workers with a limit of 30 an hour). One file per account (directory
// + EAB key id, account-files.ts), throttle/<account>.json (0600, atomic), read and written under a
// short storage lock. Per directory only, a second key id's account was held back by the first's
// orders, though the CA counts them apart. The file also keeps the CA's own hold on the account (a
// rate limit of the account's, or the CA unavailable, until its Retry-After): every name waits it.
import path from 'node:path';
import type { Logger } from 'pino';
import { takeOrderSlot, type Clock } from './renewal.js';
import type { TlsStorage } from './storage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The account's order starts in the window, and the CA's hold on it (ca-hold.ts) if any. */
interface AccountRecord { starts: number[]; hold?: { until: number; reason: string } }

export interface Taken { wait: number; why?: string }

export class AccountThrottle {
  private readonly rel: string;
  private readonly lockName: string;
  /** This process's takes, one at a time (the lock is per process too: it would only spin). */
  private queue: Promise<unknown> = Promise.resolve();

  /** `account`: accountId() (`<directory id>`, `<directory id>/eab-…` with EAB), safe as a path. */
  constructor(private readonly storage: TlsStorage, account: string, readonly max: number, readonly windowMs: number, private readonly clock: Clock, private readonly log?: Logger) {
    this.rel = path.join('throttle', `${account}.json`);
    this.lockName = `throttle-${account}`;
  }

  /**
   * `wait` 0 when an order may start now (and counts it for the account), or how many ms until one
   * may; `why` when the CA itself holds the account back (hold()), not our own count.
   */
  take(): Promise<Taken> {
    return this.locked(() => this.takeUnderLock(), { wait: 5000 });
  }

  /**
   * The CA refused an order for the whole account (new orders per account, or unavailable) until
   * `until`: no process on the data dir starts one for it before then. A later hold wins.
   */
  hold(until: number, reason: string): Promise<void> {
    return this.locked(() => {
      const r = this.load();
      if ((r.hold?.until ?? 0) < until) this.save({ ...r, hold: { until, reason } });
    }, undefined);
  }

  private locked<T>(fn: () => T, busy: T): Promise<T> {
    const run = this.queue.then(() => this.underLock(fn, busy));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async underLock<T>(fn: () => T, busy: T): Promise<T> {
    // Held for one read and one write; a holder killed meanwhile is broken at once (lock.ts).
    for (let i = 0; i < 250; i++) {
      const release = this.storage.tryLock(this.lockName, 10_000);
      if (release) { try { return fn(); } finally { release(); } }
      await sleep(20);
    }
    return busy; // still busy after 5 s: not a reason to order unthrottled; look again soon
  }

  private takeUnderLock(): Taken {
    const r = this.load();
    const now = this.clock.now();
    if (r.hold && r.hold.until > now) return { wait: r.hold.until - now, why: r.hold.reason };
    r.hold = undefined; // ran out
    const wait = takeOrderSlot(r.starts, this.max, this.windowMs, now);
    if (wait > 0) return { wait };
    this.save(r);
    return { wait: 0 };
  }

  private save(r: AccountRecord): void {
    try {
      this.storage.write(this.rel, JSON.stringify({ starts: r.starts.map((t) => new Date(t).toISOString()), hold: r.hold && { until: new Date(r.hold.until).toISOString(), reason: r.hold.reason } }) + '\n', true);
    } catch (err) {
      // Refusing certificates because the count cannot be written would be worse than one order too many.
      this.log?.warn({ file: this.storage.file(this.rel), err: (err as Error).message }, 'order throttle not stored');
    }
  }

  private load(): AccountRecord {
    let text: string | undefined;
    try { text = this.storage.read(this.rel); } catch { /* unreadable: said below */ }
    if (text === undefined) return { starts: [] };
    try {
      const { starts, hold } = JSON.parse(text) as { starts?: unknown; hold?: { until?: unknown; reason?: unknown } };
      if (Array.isArray(starts)) {
        const ts = starts.map((s) => (typeof s === 'string' ? Date.parse(s) : NaN));
        const until = typeof hold?.until === 'string' ? Date.parse(hold.until) : NaN;
        const held = Number.isFinite(until) ? { until, reason: typeof hold?.reason === 'string' ? hold.reason : 'held back by the CA' } : undefined;
        if (ts.every(Number.isFinite)) return { starts: ts, hold: held };
      }
    } catch { /* damaged: said below */ }
    this.log?.warn({ file: this.storage.file(this.rel) }, `the order throttle file ${this.storage.file(this.rel)} is damaged; counting afresh`);
    return { starts: [] };
  }
}
