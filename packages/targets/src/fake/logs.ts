// The fake's log store: every line its replicas and runs "printed", read back as a batch or followed
// like docker-host's merged logs (since, sinceAt, tail, one replica or run by id).
import { EventEmitter } from 'node:events';
import type { LogLine, LogQuery } from '@dreamnet/core';

export type AppLine = LogLine & { app: string };

export class FakeLogs {
  private readonly lines: AppLine[] = [];
  private readonly events = new EventEmitter();

  record(l: AppLine): void {
    this.lines.push(l);
    this.events.emit('line', l);
  }

  /** A replica or run stopped: followers of one id look again whether it still lives. */
  gone(): void { this.events.emit('gone'); }

  /** Some line of `app` came from replica or run `id`. */
  has(app: string, id: string): boolean { return this.lines.some((l) => l.app === app && l.id === id); }

  /** `live(id)`: the replica or run is still there (following one id ends when it stops). */
  async *read(app: string, opts: LogQuery, live: (id: string) => boolean): AsyncIterable<LogLine> {
    const since = opts.since?.getTime() ?? 0;
    const mine = (l: AppLine) => l.app === app && (opts.replicaId === undefined || l.id === opts.replicaId)
      && (opts.sinceAt === undefined || l.at >= opts.sinceAt);
    let past = this.lines.filter((l) => mine(l) && Date.parse(l.at) >= since);
    if (opts.tail !== undefined) past = past.slice(Math.max(0, past.length - opts.tail));
    for (const { app: _a, ...l } of past) yield l;
    if (!opts.follow) return;
    const queue: LogLine[] = [];
    let wake: (() => void) | null = null;
    const onLine = (l: AppLine) => {
      if (!mine(l)) return;
      const { app: _a, ...rest } = l;
      queue.push(rest);
      wake?.();
    };
    const onGone = () => wake?.();
    this.events.on('line', onLine);
    this.events.on('gone', onGone);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        // Following one replica or run ends when it stops (its last lines are queued by then).
        if (opts.replicaId !== undefined && !live(opts.replicaId)) return;
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = null;
      }
    } finally {
      this.events.off('line', onLine);
      this.events.off('gone', onGone);
    }
  }
}
