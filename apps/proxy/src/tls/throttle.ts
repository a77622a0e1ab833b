// The per-account order throttle, kept on disk. Every process on one data dir orders with the same
// ACME account (the workers of a proxy, a sibling proxy, the next run after a restart): kept in
// memory, each counted only its own orders, so a proxy with N workers placed N times the limit
// (45 orders in a minute from 2 workers with a limit of 30 an hour). One file per account (directory
// + EAB key id, account-files.ts), throttle/<account>.json (0600, atomic), read and written under a
// short storage lock. Per directory only, a second key id's account was held back by the first's
// orders, though the CA counts them apart.
import path from 'node:path';
import type { Logger } from 'pino';
import { takeOrderSlot, type Clock } from './renewal.js';
import type { TlsStorage } from './storage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  /** 0 when an order may start now (and counts it for the account), or how many ms until one may. */
  take(): Promise<number> {
    const run = this.queue.then(() => this.takeLocked());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async takeLocked(): Promise<number> {
    // Held for one read and one write; a holder killed meanwhile is broken at once (lock.ts).
    for (let i = 0; i < 250; i++) {
      const release = this.storage.tryLock(this.lockName, 10_000);
      if (release) { try { return this.takeUnderLock(); } finally { release(); } }
      await sleep(20);
    }
    return 5000; // still busy after 5 s: not a reason to order unthrottled; look again soon
  }

  private takeUnderLock(): number {
    const starts = this.load();
    const wait = takeOrderSlot(starts, this.max, this.windowMs, this.clock.now());
    if (wait > 0) return wait;
    try {
      this.storage.write(this.rel, JSON.stringify({ starts: starts.map((t) => new Date(t).toISOString()) }) + '\n', true);
    } catch (err) {
      // Refusing certificates because the count cannot be written would be worse than one order too many.
      this.log?.warn({ file: this.storage.file(this.rel), err: (err as Error).message }, 'order throttle not stored');
    }
    return 0;
  }

  private load(): number[] {
    let text: string | undefined;
    try { text = this.storage.read(this.rel); } catch { /* unreadable: said below */ }
    if (text === undefined) return [];
    try {
      const starts = (JSON.parse(text) as { starts?: unknown }).starts;
      if (Array.isArray(starts)) {
        const ts = starts.map((s) => (typeof s === 'string' ? Date.parse(s) : NaN));
        if (ts.every(Number.isFinite)) return ts;
      }
    } catch { /* damaged: said below */ }
    this.log?.warn({ file: this.storage.file(this.rel) }, `the order throttle file ${this.storage.file(this.rel)} is damaged; counting afresh`);
    return [];
  }
}
