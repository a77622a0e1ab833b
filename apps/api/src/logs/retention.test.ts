// Retention as the store promises it: the oldest segments go first once the app's log is over its
// byte cap or its age limit, cursors keep growing, and what is left is the most recent history.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogStore } from './store.js';
import type { LogRecord } from './record.js';

const dirs: string[] = [];
const stores: LogStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function open(retention: { maxBytes: number; maxAgeMs: number; segmentBytes: number }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-logs-retention-'));
  dirs.push(dir);
  const store = new LogStore(dir, retention);
  stores.push(store);
  return { dir, store };
}

const line = (i: number) => `line ${String(i).padStart(6, '0')} ` + 'x'.repeat(80);

function write(store: LogStore, from: number, to: number) {
  for (let i = from; i <= to; i++) {
    store.add('one', { timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(), source: 'runtime', replica: 1, stream: 'stdout', line: line(i) });
  }
  store.flush();
}

function history(store: LogStore): LogRecord[] {
  const r = store.log('one').reader(0);
  const out: LogRecord[] = [];
  for (let b = r.next(10_000); b.length > 0; b = r.next(10_000)) out.push(...b);
  r.close();
  return out;
}

const diskBytes = (dir: string) => fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);

describe('log retention', () => {
  it('over the byte cap drops the oldest lines, keeps the newest in order, and stays under twice the cap on disk', () => {
    const cap = 64 * 1024;
    const { dir, store } = open({ maxBytes: cap, maxAgeMs: 3_600_000, segmentBytes: cap / 8 });
    // ~200 bytes a record on disk: 5000 lines is ~15× the cap, written in batches like the collector does.
    for (let i = 1; i <= 5000; i += 100) {
      write(store, i, i + 99);
      expect(diskBytes(path.join(dir, 'one'))).toBeLessThan(2 * cap);
    }
    const recs = history(store);
    expect(recs.at(-1)!.line).toBe(line(5000));
    expect(recs.at(-1)!.cursor).toBe(5000);
    expect(recs[0]!.cursor).toBeGreaterThan(1);
    expect(recs.some((r) => r.line === line(1))).toBe(false);
    // Contiguous and increasing: retention only removes from the old end.
    recs.forEach((r, i) => expect(r.cursor).toBe(recs[0]!.cursor + i));
    expect(recs.map((r) => r.line)).toEqual(recs.map((r) => line(r.cursor)));
    // What is kept is at least most of the cap (whole segments go, not everything).
    expect(diskBytes(path.join(dir, 'one'))).toBeGreaterThan(cap / 2);

    // Cursors keep growing after a restart on the trimmed log.
    store.close();
    stores.splice(0);
    const again = new LogStore(dir, { maxBytes: cap, maxAgeMs: 3_600_000, segmentBytes: cap / 8 });
    stores.push(again);
    write(again, 5001, 5001);
    expect(history(again).at(-1)).toMatchObject({ cursor: 5001, line: line(5001) });
  });

  it('removes segments older than the age limit on the maintenance tick, never the one being written', () => {
    const { dir, store } = open({ maxBytes: 64 * 1024 * 1024, maxAgeMs: 3_600_000, segmentBytes: 1 });
    // segmentBytes 1: every flush starts a new segment, so each batch is its own file.
    write(store, 1, 10);
    write(store, 11, 20);
    write(store, 21, 30);
    const appDir = path.join(dir, 'one');
    const files = fs.readdirSync(appDir).sort();
    expect(files).toHaveLength(3);
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(path.join(appDir, files[0]!), twoHoursAgo, twoHoursAgo);
    store.enforce();
    expect(fs.readdirSync(appDir).sort()).toEqual(files.slice(1));
    expect(history(store).map((r) => r.cursor)).toEqual(Array.from({ length: 20 }, (_, i) => 11 + i));

    // Even when everything is old, the segment being written stays (and so does the cursor sequence).
    for (const f of files.slice(1)) fs.utimesSync(path.join(appDir, f), twoHoursAgo, twoHoursAgo);
    store.enforce();
    expect(fs.readdirSync(appDir)).toEqual([files[2]]);
    expect(history(store).map((r) => r.cursor)).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    // The next write opens a new segment; the old one then goes, and the cursor carries on.
    write(store, 31, 31);
    expect(history(store).map((r) => r.cursor)).toEqual([31]);
  });

  it('an injected clock past the age limit removes old segments', () => {
    const { dir, store } = open({ maxBytes: 64 * 1024 * 1024, maxAgeMs: 60_000, segmentBytes: 1 });
    write(store, 1, 5);
    write(store, 6, 10);
    const log = store.log('one');
    log.enforce(Date.now());
    expect(fs.readdirSync(path.join(dir, 'one'))).toHaveLength(2);
    log.enforce(Date.now() + 120_000);
    expect(fs.readdirSync(path.join(dir, 'one'))).toHaveLength(1);
    expect(log.firstCursor).toBe(6);
  });
});
