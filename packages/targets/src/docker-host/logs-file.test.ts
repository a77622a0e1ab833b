import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
  afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });
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
      // Rotate like Docker: shift the old ones, rename the current, start a new one; the oldest goes.
      if (i > 0 && i % 500 === 0) {
        fs.closeSync(fd);
        if (fs.existsSync(`${f}.2`)) fs.renameSync(`${f}.2`, `${f}.3`);
        if (fs.existsSync(`${f}.1`)) fs.renameSync(`${f}.1`, `${f}.2`);
        fs.renameSync(f, `${f}.1`);
        if (fs.existsSync(`${f}.3`)) fs.rmSync(`${f}.3`);
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

  it('tail 0 starts at the end: only lines written after it started', async () => {
    const f = logDir();
    fs.writeFileSync(f, line(0) + line(1));
    const reading = collect(f, { follow: true, tail: 0, pollMs: 20 }, (n) => n >= 1);
    await sleep(100);
    fs.appendFileSync(f, line(2));
    expect(await reading).toEqual(['line 2']);
  });
});
