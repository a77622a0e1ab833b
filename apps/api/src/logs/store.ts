// Per-app durable logs with live subscribers. Lines from every source are batched for one event-loop
// turn, ordered by time within the batch, numbered with the next cursors, written, then pushed to
// subscribers — so replicas come out merged in time order and cursors never go backwards.
import fs from 'node:fs';
import path from 'node:path';
import { assertAppName } from '@dreamnet/core';
import { AppLog, type Retention } from './segments.js';
import { matches, timeKey, type LogRecord, type NewRecord, type RecordFilter } from './record.js';

export type Subscriber = (records: LogRecord[]) => void;

/** The newest stored line of one container: its time and how many stored lines share that time. */
export interface Seen { key: string; at: string; n: number }

export class LogStore {
  private readonly logs = new Map<string, AppLog>();
  private readonly pending = new Map<string, NewRecord[]>();
  private readonly subs = new Map<string, Set<Subscriber>>();
  private readonly seen = new Map<string, Map<string, Seen>>();
  private scheduled = false;

  constructor(readonly dir: string, private readonly retention: Retention) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  log(app: string): AppLog {
    let l = this.logs.get(app);
    if (!l) {
      l = new AppLog(path.join(this.dir, assertAppName(app)), this.retention);
      this.logs.set(app, l);
    }
    return l;
  }

  add(app: string, rec: NewRecord): void {
    let q = this.pending.get(app);
    if (!q) this.pending.set(app, (q = []));
    q.push(rec);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    for (const [app, batch] of this.pending) {
      this.pending.delete(app);
      const log = this.log(app);
      const seen = this.seenOf(app);
      // Stable sort: lines of one container keep their order even when their times tie.
      const keyed = batch.map((r) => ({ r, k: timeKey(r.timestamp) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      const records = keyed.map(({ r, k }, i) => {
        if (r.container) {
          const s = seen.get(r.container);
          if (!s || k > s.key) seen.set(r.container, { key: k, at: r.timestamp, n: 1 });
          else if (k === s.key) s.n++;
        }
        return { cursor: log.last + 1 + i, ...r };
      });
      log.append(records);
      for (const fn of this.subs.get(app) ?? []) fn(records);
    }
  }

  subscribe(app: string, fn: Subscriber): () => void {
    let set = this.subs.get(app);
    if (!set) this.subs.set(app, (set = new Set()));
    set.add(fn);
    return () => { set.delete(fn); };
  }

  /** What is already stored of a container (for exactly-once resume after a restart). */
  lastSeen(app: string, container: string): Seen | undefined {
    return this.seenOf(app).get(container);
  }

  /** Cursor to read after so that the last `n` records matching `filter` come next. */
  tailCursor(app: string, n: number, filter: RecordFilter): number {
    const log = this.log(app);
    if (n === 0) return log.last;
    let found = 0;
    for (const seg of log.newestFirst()) {
      const recs = readSegment(seg.file);
      for (let i = recs.length - 1; i >= 0; i--) {
        if (matches(recs[i]!, filter) && ++found === n) return recs[i]!.cursor - 1;
      }
    }
    return 0;
  }

  /** Cursor to read after so that records at or after `time` come next. */
  timeCursor(app: string, time: string): number {
    const log = this.log(app);
    const t = timeKey(time);
    let after = log.last;
    for (const seg of log.newestFirst()) {
      const recs = readSegment(seg.file);
      for (let i = recs.length - 1; i >= 0; i--) {
        if (timeKey(recs[i]!.timestamp) < t) return after;
        after = recs[i]!.cursor - 1;
      }
    }
    return after;
  }

  /** Maintenance tick: age-based retention for every open log. */
  enforce(): void {
    for (const l of this.logs.values()) l.enforce();
  }

  close(): void {
    this.flush();
    for (const l of this.logs.values()) l.close();
    this.logs.clear();
  }

  private seenOf(app: string): Map<string, Seen> {
    let m = this.seen.get(app);
    if (m) return m;
    // First use since start: rebuild from disk (bounded by the retention size).
    m = new Map();
    const r = this.log(app).reader(0);
    for (let batch = r.next(10_000); batch.length > 0; batch = r.next(10_000)) {
      for (const rec of batch) {
        if (!rec.container) continue;
        const k = timeKey(rec.timestamp);
        const s = m.get(rec.container);
        if (!s || k > s.key) m.set(rec.container, { key: k, at: rec.timestamp, n: 1 });
        else if (k === s.key) s.n++;
      }
    }
    r.close();
    this.seen.set(app, m);
    return m;
  }
}

function readSegment(file: string): LogRecord[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return []; }
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogRecord);
}
