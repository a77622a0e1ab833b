// A failing api is logged once per outage, then reminded at most every FAILURE_REMINDER_MS, and its
// recovery once — not once per retry (every ~5 s: ~720 lines an hour). Serving is unaffected.
import type { Logger } from 'pino';

/** While polls keep failing, a reminder at most this often (the first failure is logged at once). */
export const FAILURE_REMINDER_MS = 5 * 60_000;

export class OutageLog {
  /** The outage under way: since when, how many polls failed, when it was last logged. */
  private failing: { since: number; failures: number; loggedAt: number } | null = null;

  constructor(private readonly log: Logger) {}

  failed(e: Error, retryInMs: number): void {
    const now = Date.now();
    if (!this.failing) {
      this.failing = { since: now, failures: 1, loggedAt: now };
      this.log.warn({ err: e.message, retryInMs }, 'route poll failed; serving the last known routes until the api answers (logged again only every 5 minutes while it lasts)');
      return;
    }
    this.failing.failures++;
    if (now - this.failing.loggedAt < FAILURE_REMINDER_MS) return;
    this.failing.loggedAt = now;
    this.log.warn({ err: e.message, failures: this.failing.failures, since: new Date(this.failing.since).toISOString() }, 'route poll still failing; serving the last known routes');
  }

  recovered(): void {
    if (!this.failing) return;
    this.log.info({ failures: this.failing.failures, downMs: Date.now() - this.failing.since }, 'route poll recovered');
    this.failing = null;
  }
}
