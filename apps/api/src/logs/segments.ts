// One app's log on disk: append-only segment files named by their first cursor
// (<dir>/<first>.ndjson, one JSON record per line). Writes are synchronous and whole-line, so a
// reader on the same thread never sees half a record and the live hand-over has no gap.
import fs from 'node:fs';
import path from 'node:path';
import type { LogRecord } from './record.js';

export interface Retention {
  maxBytes: number;
  maxAgeMs: number;
  segmentBytes: number;
}

interface Segment { first: number; file: string; size: number }

const NAME = /^(\d{16})\.ndjson$/;

export class AppLog {
  private segments: Segment[] = [];
  private fd: number | null = null;
  /** Cursor of the newest record (0 = none yet). */
  last = 0;

  constructor(readonly dir: string, private readonly retention: Retention) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.segments = fs.readdirSync(dir).flatMap((f) => {
      const m = NAME.exec(f);
      return m ? [{ first: Number(m[1]), file: path.join(dir, f), size: fs.statSync(path.join(dir, f)).size }] : [];
    }).sort((a, b) => a.first - b.first);
    const tail = this.segments.at(-1);
    if (tail) {
      this.last = tail.first - 1;
      // A crash mid-write can leave a torn last line: cut it so cursors stay parseable and monotonic.
      const text = fs.readFileSync(tail.file, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end !== text.length) { fs.truncateSync(tail.file, end); tail.size = end; }
      const lines = text.slice(0, end).trimEnd().split('\n');
      const lastLine = lines.at(-1);
      if (lastLine) this.last = (JSON.parse(lastLine) as LogRecord).cursor;
    }
  }

  get firstCursor(): number { return this.segments[0]?.first ?? this.last + 1; }

  get bytes(): number { return this.segments.reduce((n, s) => n + s.size, 0); }

  /** Records must carry cursors last+1, last+2, … */
  append(records: LogRecord[]): void {
    if (records.length === 0) return;
    let active = this.segments.at(-1);
    if (!active || active.size >= this.retention.segmentBytes) {
      this.closeFd();
      active = { first: records[0]!.cursor, file: path.join(this.dir, `${String(records[0]!.cursor).padStart(16, '0')}.ndjson`), size: 0 };
      this.segments.push(active);
    }
    this.fd ??= fs.openSync(active.file, 'a', 0o600);
    const buf = Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off);
    active.size += buf.length;
    this.last = records.at(-1)!.cursor;
    this.enforce();
  }

  /** Drops the oldest segments (never the one being written) while over size or age. */
  enforce(now = Date.now()): void {
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const tooBig = this.bytes > this.retention.maxBytes;
      const tooOld = fs.statSync(oldest.file).mtimeMs < now - this.retention.maxAgeMs;
      if (!tooBig && !tooOld) break;
      fs.rmSync(oldest.file, { force: true });
      this.segments.shift();
    }
  }

  /** A forward reader of every record with cursor > after (from the oldest kept if older). */
  reader(after: number): LogReader {
    return new LogReader(this, after);
  }

  /** The segment holding `cursor`, else the next one; null past the end. */
  segmentFor(cursor: number): Segment | null {
    let pick: Segment | null = null;
    for (const s of this.segments) { if (s.first <= cursor) pick = s; else break; }
    return pick ?? this.segments[0] ?? null;
  }

  segmentAfter(first: number): Segment | null {
    return this.segments.find((s) => s.first > first) ?? null;
  }

  /** Every segment, newest first (tail and time searches read backwards). */
  newestFirst(): Segment[] { return [...this.segments].reverse(); }

  close(): void { this.closeFd(); }

  private closeFd(): void {
    if (this.fd !== null) { fs.closeSync(this.fd); this.fd = null; }
  }
}

const CHUNK = 256 * 1024;

/** Reads forward in chunks with an open descriptor (a segment removed by retention stays readable). */
export class LogReader {
  private seg: Segment | null;
  private fd: number | null = null;
  private offset = 0;
  private rest: Buffer = Buffer.alloc(0);

  constructor(private readonly log: AppLog, private after: number) {
    this.seg = log.segmentFor(after + 1);
  }

  /** Up to `max` records; [] when caught up with the newest record. */
  next(max: number): LogRecord[] {
    const out: LogRecord[] = [];
    const buf = Buffer.allocUnsafe(CHUNK);
    while (out.length < max && this.seg) {
      this.fd ??= fs.openSync(this.seg.file, 'r');
      const n = fs.readSync(this.fd, buf, 0, CHUNK, this.offset);
      if (n === 0) {
        const nextSeg = this.log.segmentAfter(this.seg.first);
        if (!nextSeg) break;
        this.close();
        this.seg = nextSeg;
        this.offset = 0;
        this.rest = Buffer.alloc(0);
        continue;
      }
      this.offset += n;
      // Split on bytes, not characters: a chunk may end inside a multi-byte character.
      const data = this.rest.length > 0 ? Buffer.concat([this.rest, buf.subarray(0, n)]) : Buffer.from(buf.subarray(0, n));
      const end = data.lastIndexOf(0x0a);
      this.rest = end < 0 ? data : data.subarray(end + 1);
      if (end < 0) continue;
      for (const line of data.toString('utf8', 0, end).split('\n')) {
        if (!line) continue;
        const r = JSON.parse(line) as LogRecord;
        if (r.cursor > this.after) { out.push(r); this.after = r.cursor; }
      }
    }
    // May return up to one chunk more than `max`: the caller pages by bytes on the socket anyway.
    return out;
  }

  get position(): number { return this.after; }

  close(): void {
    if (this.fd !== null) { fs.closeSync(this.fd); this.fd = null; }
  }
}
