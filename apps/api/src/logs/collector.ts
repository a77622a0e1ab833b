// Follows every replica's output (Target.logs per replica id) into the store. A replica is followed
// from the last stored time of that container, skipping the lines already stored at exactly that
// time, so replica restarts, redeploys and api restarts neither lose nor repeat a line.
import type { LogLine, Target } from '@dreamnet/core';
import type { LogStore } from './store.js';
import { timeKey, type LogSource } from './record.js';

interface LogSink { warn(obj: object, msg: string): void }

interface Follow { app: string; stop(): void }

export class LogCollector {
  private readonly follows = new Map<string, Follow>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly target: Target, private readonly store: LogStore, private readonly log: LogSink, private readonly intervalMs = 1000) {}

  start(): void {
    this.stopped = false;
    const loop = async () => {
      await this.tick().catch((err: unknown) => this.log.warn({ err: String(err) }, 'log collector: listing replicas failed'));
      this.store.enforce();
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.intervalMs);
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const f of this.follows.values()) f.stop();
    this.follows.clear();
  }

  /** One pass: start following every replica not followed yet (new, or restarted since its stream ended). */
  async tick(): Promise<void> {
    for (const { app, id } of await this.target.inventory()) {
      if (!this.follows.has(id)) this.follow(app, id, 'runtime');
    }
  }

  /** A detached one-off run: its output goes to the app's log (source "run"); removed when it ends. */
  followRun(app: string, id: string): void {
    this.follow(app, id, 'run', () => { void this.target.removeRun?.(id); });
  }

  private follow(app: string, id: string, source: LogSource, onEnd?: () => void): void {
    const seen = this.store.lastSeen(app, id);
    const it = this.target.logs(app, { follow: true, replicaId: id, ...(seen ? { sinceAt: seen.at } : {}) })[Symbol.asyncIterator]();
    let skip = seen?.n ?? 0;
    let done = false;
    // Docker stamps each stream's lines in order; a line older than the last one taken from its
    // stream is a repeat (Docker's follow can re-send lines around a json-file rotation).
    const newest = { stdout: '', stderr: '' };
    const stop = () => { done = true; void it.return?.().catch(() => {}); };
    this.follows.set(id, { app, stop });
    const take = (l: LogLine) => {
      if (seen) {
        const k = timeKey(l.at);
        if (k < seen.key) return;
        if (k === seen.key && skip > 0) { skip--; return; }
      }
      const k = timeKey(l.at);
      if (k < newest[l.stream]) return;
      newest[l.stream] = k;
      this.store.add(app, { timestamp: l.at, source, replica: source === 'run' ? id.slice(0, 12) : l.replica, stream: l.stream, line: l.line, container: id });
    };
    void (async () => {
      try {
        for (;;) {
          const r = await it.next();
          if (r.done || done) break;
          take(r.value);
        }
      } catch (err) {
        if (!done) this.log.warn({ app, id: id.slice(0, 12), err: String(err) }, 'log collector: following a replica failed');
      } finally {
        // Let the next tick pick the container up again if it still exists (it restarted).
        if (this.follows.get(id)?.stop === stop) this.follows.delete(id);
        if (!done) onEnd?.();
      }
    })();
  }
}
