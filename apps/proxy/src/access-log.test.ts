// The access log's writer when the reader of stdout stalls (a log shipper that stops reading but
// keeps the pipe open, a terminal scrolled back with flow control): every line is kept in memory
// until it can be written, so the proxy grows by ~1 KB a request for as long as the stall lasts
// (measured with a real proxy: 110 → 153 MB over 40 000 requests). The writer now keeps at most
// ACCESS_LOG_MAX_BUFFER bytes and drops lines beyond it, with one ACCESS_LOG_DROPPED warning.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { accessLogTo, type AccessEntry } from './access-log.js';

const entry = (i: number): AccessEntry => ({
  method: 'GET', host: 'web.dream', path: `/${'p'.repeat(400)}?i=${i}`, status: 200, bytes: 120, ms: 0.4,
  upstream: '10.0.0.2:3000', requestId: `r${i}`, client: '203.0.113.9', proto: '1.1',
});
const tick = () => new Promise((r) => setImmediate(r));

let cleanup: (() => void)[] = [];
// Last in, first out: the writer (which owns and closes the pipe's write end) before the pipe.
afterEach(() => { for (const c of cleanup.splice(0).reverse()) c(); });

/** A named pipe whose reader never reads: writes fill its 64 KB and then fail with EAGAIN, as a stalled stdout does. */
function stalledPipe(): { writeFd: number; readFd: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'access-log-'));
  const fifo = path.join(dir, 'out');
  execFileSync('mkfifo', [fifo]);
  const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  cleanup.push(() => { fs.closeSync(readFd); fs.rmSync(dir, { recursive: true, force: true }); });
  return { writeFd, readFd };
}

function captured(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s)); } });
  return { log, lines };
}

describe('access log with a stalled reader', () => {
  it('holds at most its buffer bound, drops the rest with one ACCESS_LOG_DROPPED warning, and writes again once read', async () => {
    const { writeFd, readFd } = stalledPipe();
    const { log, lines } = captured();
    const maxBytes = 1 << 20;
    const access = accessLogTo(writeFd, log, maxBytes);
    cleanup.push(() => access.close());
    const before = process.memoryUsage().heapUsed;
    // ~25 MB of lines (50 000 requests' worth), written as a busy proxy would, a few hundred a turn.
    for (let i = 0; i < 50_000; i++) { access.log(entry(i)); if (i % 500 === 0) await tick(); }
    const held = access.buffered();
    expect(held).toBeLessThanOrEqual(maxBytes);
    const warned = lines.filter((l) => l.code === 'ACCESS_LOG_DROPPED');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.level).toBe(40);
    expect(String(warned[0]!.msg)).toMatch(/stdout/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(15 << 20);

    // The reader comes back: what was held drains (the writer retries every 100 ms) and new lines are written again.
    const buf = Buffer.alloc(1 << 16);
    let read = 0;
    const drain = () => { for (;;) { try { const n = fs.readSync(readFd, buf); if (n <= 0) return; read += n; } catch { return; } } };
    for (let i = 0; i < 500 && access.buffered() > 0; i++) { drain(); await new Promise((r) => setTimeout(r, 20)); }
    expect(access.buffered()).toBe(0);
    access.log(entry(99_999));
    access.flush();
    drain();
    expect(read).toBeGreaterThan(held);
  }, 60_000);

  it('flush() before exit gives a stalled reader a bounded time, then returns (it waited for ever before)', async () => {
    const { writeFd } = stalledPipe();
    const { log } = captured();
    const access = accessLogTo(writeFd, log, 1 << 20, 500);
    cleanup.push(() => access.close());
    for (let i = 0; i < 2_000; i++) access.log(entry(i)); // ~1 MB: more than the pipe holds
    await tick();
    const t0 = Date.now();
    access.flush();
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(2_000);
    // Still usable afterwards (a flush at exit may be followed by the last lines of a worker).
    access.log(entry(3_000));
  }, 30_000);
});
