// What the log says of the names an account's order throttle holds back. A warn line per name held
// back, each time it came due: 1 000 names over the limit logged 1 000 warn lines at once, and as
// many again as each freed slot let one order start (measured: 300 names, a limit of 1 → 299 warn
// lines). Now one warn line per account at most once a minute (rare-warning.ts's WarningBout, on the
// manager's clock): the names held back each less than GATHER_MS after the one before (at most
// MAX_GATHER_MS in all), how many and a few of them, and the earliest retry; every name still has
// its own debug line (and its status says throttled). Counted from the first name alone, a tick over
// 300 names on a loaded box outlasted the window and the line counted 277 of 299.
import type { Logger } from 'pino';
import { WarningBout } from '../rare-warning.js';
import type { Clock } from './renewal.js';

/** The pause after a name held back that ends the gathering (one tick, the slices of a first table). */
export const GATHER_MS = 1000;
/** A line is written by then even while names keep coming. */
export const MAX_GATHER_MS = 10_000;
/** How many of them the warn line names. */
export const EXAMPLES = 5;

export class HeldBackLog {
  private readonly bout = new WarningBout();
  private batch?: { hosts: Set<string>; reason: string; retryAt: number; timer: NodeJS.Timeout; since: number };

  constructor(private readonly account: string, private readonly clock: Clock, private readonly log?: Logger) {}

  /** `host` may not start its order before `retryAt` (epoch ms, the manager's clock): `reason`. */
  held(host: string, retryAt: number, reason: string): void {
    this.log?.debug({ host, retryAt: new Date(retryAt).toISOString() }, `certificate order held back: ${reason}`);
    const b = this.batch;
    if (b) {
      b.hosts.add(host);
      b.retryAt = Math.min(b.retryAt, retryAt);
      // Real time, as the timer: the pause between names, not the manager's clock.
      if (Date.now() - b.since < MAX_GATHER_MS - GATHER_MS) b.timer.refresh();
      return;
    }
    if (!this.bout.hit(this.clock.now())) return;
    const timer = setTimeout(() => this.flush(), GATHER_MS);
    timer.unref();
    this.batch = { hosts: new Set([host]), reason, retryAt, timer, since: Date.now() };
  }

  /** Logs the gathered names now (a stopping proxy says what it held back). */
  flush(): void {
    const b = this.batch;
    if (!b) return;
    this.batch = undefined;
    clearTimeout(b.timer);
    this.log?.warn({ account: this.account, names: b.hosts.size, hosts: [...b.hosts].slice(0, EXAMPLES), retryAt: new Date(b.retryAt).toISOString() },
      `certificate order held back: ${b.reason}`);
  }
}
