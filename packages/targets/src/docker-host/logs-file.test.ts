import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JsonLogDecoder, fixedNano } from './logs-json.js';
import { readLogFile, type FileReadOptions } from './logs-file.js';
import { timeKey } from './frames.js';

const entry = (log: string, stream = 'stdout', time = '2026-01-02T03:04:05.1Z') => `${JSON.stringify({ log, stream, time })}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('JsonLogDecoder', () => {
  it('joins the parts Docker split a long line into, per stream, stamped with the first part', () => {
    const d = new JsonLogDecoder();
    const out = d.push(Buffer.from(
      entry('aaa', 'stdout', '2026-01-02T03:04:05.1Z') + entry('err\n', 'stderr', '2026-01-02T03:04:05.2Z')
      + entry('bbb', 'stdout', '2026-01-02T03:04:05.3Z') + entry('ccc\r\n', 'stdout', '2026-01-02T03:04:05.4Z')));
    expect(out).toEqual([
      { at: '2026-01-02T03:04:05.200000000Z', stream: 'stderr', line: 'err' },
      { at: '2026-01-02T03:04:05.100000000Z', stream: 'stdout', line: 'aaabbbccc' },
    ]);
  });

  it('holds back a half-written JSON line (cut inside a multi-byte character) until the rest comes', () => {
    const d = new JsonLogDecoder();
    const bytes = Buffer.from(entry('one\n') + entry('grüße\n'));
    const cut = bytes.indexOf(Buffer.from('ü')) + 1;
    expect(d.push(bytes.subarray(0, cut)).map((e) => e.line)).toEqual(['one']);
    expect(d.pendingBytes).toBeGreaterThan(0);
    expect(d.push(bytes.subarray(cut)).map((e) => e.line)).toEqual(['grüße']);
    expect(d.pendingBytes).toBe(0);
  });

  it('gives out a last line without "\\n" only at the end', () => {
    const d = new JsonLogDecoder();
    expect(d.push(Buffer.from(entry('prompt> ')))).toEqual([]);
    expect(d.flush().map((e) => e.line)).toEqual(['prompt> ']);
  });

  it('spells times like the API (9 fraction digits)', () => {
    expect(fixedNano('2026-11-23T05:48:46.8836598Z')).toBe('2026-11-23T05:48:46.883659800Z');
    expect(fixedNano('2026-11-23T05:48:46Z')).toBe('2026-11-23T05:48:46.000000000Z');
  });
});

describe('readLogFile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const logDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-logsfile-'));
    dirs.push(d);
    return path.join(d, 'c-json.log');
  };
  const t = (i: number) => `2026-01-02T03:04:${String(5 + Math.floor(i / 1000)).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}1Z`;
  const line = (i: number) => entry(`line ${i}\n`, 'stdout', t(i));

  async function collect(file: string, o: FileReadOptions, until?: (n: number) => boolean): Promise<string[]> {
    const got: string[] = [];
    for await (const b of readLogFile(file, o)) {
      got.push(...b.map((e) => e.line));
      if (until?.(got.length)) break;
    }
    return got;
  }

  /** Rotate like Docker's json-file: the oldest (`.<max-1>`) goes, the rest shift up, highest first; a new `<path>`. */
  const rotate = (f: string, maxFile: number) => {
    fs.rmSync(`${f}.${maxFile - 1}`, { force: true });
    for (let i = maxFile - 1; i > 1; i--) if (fs.existsSync(`${f}.${i - 1}`)) fs.renameSync(`${f}.${i - 1}`, `${f}.${i}`);
    fs.renameSync(f, `${f}.1`);
    fs.writeFileSync(f, '');
  };

  it('reads rotated files oldest first, then the current one; since is inclusive', async () => {
    const f = logDir();
    fs.writeFileSync(`${f}.2`, line(0) + line(1));
    fs.writeFileSync(`${f}.1`, line(2) + line(3));
    fs.writeFileSync(f, line(4));
    expect(await collect(f, { follow: false })).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(await collect(f, { follow: false, sinceKey: timeKey(t(3)) })).toEqual(['line 3', 'line 4']);
    expect(await collect(f, { follow: false, tail: 2 })).toEqual(['line 3', 'line 4']);
  });

  it('follows appends and rotations (rename to .1, new file) without losing or repeating a line', async () => {
    const f = logDir();
    fs.writeFileSync(f, '');
    let stopped = false;
    const reading = collect(f, { follow: true, pollMs: 20, aliveMs: 20, alive: async () => !stopped });
    let fd = fs.openSync(f, 'a');
    for (let i = 0; i < 3000; i++) {
      // max-file 10: nothing is deleted, so a lost line is the reader's fault. (With fewer kept files a
      // reader starved by this loop, which shares its thread, can fall behind until Docker deletes a
      // file it had not opened yet; that case has its own test below.)
      if (i > 0 && i % 500 === 0) {
        fs.closeSync(fd);
        rotate(f, 10);
        fd = fs.openSync(f, 'a');
      }
      // Half an entry, then the rest: the reader may see the file cut mid-line.
      const e = line(i);
      fs.writeSync(fd, e.slice(0, 10));
      if (i % 100 === 0) await sleep(2);
      fs.writeSync(fd, e.slice(10));
    }
    fs.closeSync(fd);
    stopped = true;
    const got = await reading;
    expect(got.length).toBe(3000);
    expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => `line ${i}`));
  });

  it('reads every generation when Docker rotates between the reader finding a file and opening it', async () => {
    // The worst moment, made deterministic: each time the reader opens a file (the first one too),
    // Docker first rotates and writes two lines (three times), so a name found a moment ago now
    // holds the next generation.
    const f = logDir();
    fs.writeFileSync(`${f}.1`, line(0) + line(1));
    fs.writeFileSync(f, line(2) + line(3));
    let n = 4;
    const open = fs.promises.open.bind(fs.promises);
    vi.spyOn(fs.promises, 'open').mockImplementation(async (...a: Parameters<typeof open>) => {
      if (n < 10) {
        rotate(f, 10);
        fs.appendFileSync(f, line(n) + line(n + 1));
        n += 2;
      }
      return open(...a);
    });
    expect(await collect(f, { follow: false })).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));
  });

  it('loses only a file Docker deleted before the reader got to it, and repeats nothing', async () => {
    // max-file 3; right after the reader opens g0 Docker rotates three times: g0 (open) and g1 are
    // deleted, g1 never opened. The reader finishes g0 from its descriptor, then goes on with g2.
    const f = logDir();
    fs.writeFileSync(`${f}.1`, line(0) + line(1));
    fs.writeFileSync(f, line(2) + line(3));
    let opens = 0;
    const open = fs.promises.open.bind(fs.promises);
    vi.spyOn(fs.promises, 'open').mockImplementation(async (...a: Parameters<typeof open>) => {
      const h = await open(...a);
      if (opens++ === 0) for (let n = 4; n < 10; n += 2) { rotate(f, 3); fs.appendFileSync(f, line(n) + line(n + 1)); }
      return h;
    });
    expect(await collect(f, { follow: false })).toEqual([0, 1, 4, 5, 6, 7, 8, 9].map((i) => `line ${i}`));
  });

  it('catches up over several rotations that happened while it was not polling', async () => {
    const f = logDir();
    fs.writeFileSync(f, line(0));
    let stopped = false;
    const reading = collect(f, { follow: true, pollMs: 500, aliveMs: 0, alive: async () => !stopped });
    await sleep(50);
    // No await from here on: the reader sees all of it at once, three rotations past the file it has open.
    for (let i = 1; i < 400; i++) {
      if (i % 100 === 0) rotate(f, 5);
      fs.appendFileSync(f, line(i));
    }
    stopped = true;
    expect(await reading).toEqual(Array.from({ length: 400 }, (_, i) => `line ${i}`));
  });

  it('tail 0 starts at the end: only lines written after it started', async () => {
    const f = logDir();
    fs.writeFileSync(f, line(0) + line(1));
    const reading = collect(f, { follow: true, tail: 0, pollMs: 20 }, (n) => n >= 1);
    await sleep(100);
    fs.appendFileSync(f, line(2));
    expect(await reading).toEqual(['line 2']);
  });
});
