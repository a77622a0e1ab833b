// Reading what the data dir holds for names ensure() was just given: the stored pair (a restart
// never re-orders a valid one) and the order backoff. About 2.6 ms a name (most of it
// tls.createSecureContext), so ensure() of thousands of names read them all before it returned:
// a proxy restarted with 5 000 stored certificates did not listen for 10.4 s, and a first table of
// 5 000 new names blocked the event loop for 0.9 s. Now names wait here, unread: they are read in
// the background in slices of BUDGET_MS that yield to the event loop in between, and a name wanted
// before its turn (a handshake, a plain request asking whether to redirect) is read at once, alone.
// An unread name is never ordered: its orders start only once it is read (the manager's `read`).
import type { Logger } from 'pino';
import type { BackoffStore } from './backoff.js';
import type { Entry } from './entry.js';
import type { SiblingCerts } from './siblings.js';

/** How long one slice of reading may hold the event loop. */
export const BUDGET_MS = 8;

export interface StoredLoaderOptions<T> {
  /** Reads one name's stored state (synchronous: a slice is timed around it). */
  load(item: T): void;
  /** Called with the names just read (start what is due); `done` once nothing is left unread. */
  read(items: T[], done: boolean): void;
  budgetMs?: number;
}

export class StoredLoader<T> {
  private readonly unread = new Set<T>();
  private running?: Promise<void>;
  private closed = false;

  constructor(private readonly o: StoredLoaderOptions<T>) {}

  /** Queues `item` for reading in the background. */
  add(item: T): void {
    this.unread.add(item);
    this.running ??= this.run();
  }

  /** Whether `item` still waits to be read (it must not be ordered yet). */
  pending(item: T): boolean { return this.unread.has(item); }

  /** Drops an item not read yet (its name left the route table). */
  forget(item: T): void { this.unread.delete(item); }

  /** Reads `item` now if it is still unread: something wants its certificate before its turn. */
  now(item: T): void {
    if (!this.unread.delete(item)) return;
    this.o.load(item);
    this.o.read([item], this.unread.size === 0);
  }

  /** Resolves once every item queued so far (and meanwhile) is read. */
  drain(): Promise<void> { return this.running ?? Promise.resolve(); }

  close(): void { this.closed = true; this.unread.clear(); }

  private async run(): Promise<void> {
    const budget = this.o.budgetMs ?? BUDGET_MS;
    try {
      for (;;) {
        // First yield: ensure() returns before anything is read.
        await new Promise((r) => setImmediate(r));
        if (this.closed || this.unread.size === 0) return;
        const until = performance.now() + budget;
        const batch: T[] = [];
        for (const item of this.unread) {
          this.unread.delete(item);
          this.o.load(item);
          batch.push(item);
          if (performance.now() >= until) break;
        }
        this.o.read(batch, this.unread.size === 0);
      }
    } finally {
      this.running = undefined;
    }
  }
}

/** One name's stored pair (siblings.ts adopt) and order backoff: a restart must not ask the CA again too soon. */
export function readStored(e: Entry, stored: SiblingCerts, backoffs: BackoffStore, now: number, log?: Logger): void {
  try {
    stored.adopt(e);
    backoffs.restore(e, now);
  } catch (err) {
    log?.warn({ host: e.host, err: (err as Error).message }, 'stored certificate could not be read; ordering a new one');
  }
}
