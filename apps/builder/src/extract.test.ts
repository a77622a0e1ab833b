import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as tar from 'tar-stream';
import { extractTar, entryParts } from './extract.js';

type E = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo'; body?: string; linkname?: string; mode?: number };

function tarOf(entries: E[]): Readable {
  const p = tar.pack();
  for (const e of entries) {
    if ((e.type ?? 'file') === 'file') p.entry({ name: e.name, mode: e.mode ?? 0o644 }, e.body ?? '');
    else p.entry({ name: e.name, type: e.type, linkname: e.linkname });
  }
  p.finalize();
  return p as unknown as Readable;
}

let base: string;
let dest: string;
const limits = { maxBytes: 1 << 20, maxFiles: 100 };
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'builder-extract-'));
  dest = path.join(base, 'dest');
  fs.mkdirSync(dest);
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

const outside = () => fs.readdirSync(base).filter((n) => n !== 'dest');

describe('entryParts', () => {
  it('normalises ./ and empty segments', () => expect(entryParts('./a//b/./c')).toEqual(['a', 'b', 'c']));
  it('root entry is empty', () => expect(entryParts('./')).toEqual([]));
  it('rejects ..', () => expect(() => entryParts('a/../../x')).toThrow(/".." is not allowed/));
  it('rejects absolute', () => expect(() => entryParts('/etc/passwd')).toThrow(/absolute paths/));
});

describe('extractTar', () => {
  it('extracts files, directories, exec bits and inside links', async () => {
    const r = await extractTar(tarOf([
      { name: 'package.json', body: '{}' },
      { name: 'src/', type: 'directory' },
      { name: 'src/a.js', body: 'a' },
      { name: 'bin/run', body: '#!/bin/sh', mode: 0o755 },
      { name: 'docs/readme', type: 'symlink', linkname: '../package.json' },
      { name: 'copy.js', type: 'link', linkname: 'src/a.js' },
    ]), dest, limits);
    expect(r.files).toBe(6);
    expect(fs.readFileSync(path.join(dest, 'src/a.js'), 'utf8')).toBe('a');
    expect(fs.statSync(path.join(dest, 'bin/run')).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(path.join(dest, 'docs/readme'), 'utf8')).toBe('{}');
    expect(fs.lstatSync(path.join(dest, 'copy.js')).isFile()).toBe(true);
  });

  it.each([
    [[{ name: '../x', body: 'pwned' }], /".." is not allowed/],
    [[{ name: '/tmp/abs-x', body: 'pwned' }], /absolute paths are not allowed/],
    [[{ name: 'etc', type: 'symlink', linkname: '/etc' }], /symbolic links must be relative/],
    [[{ name: 'up', type: 'symlink', linkname: '../..' }], /leads outside the archive/],
    [[{ name: 'h', type: 'link', linkname: '../../etc/passwd' }], /".." is not allowed/],
    [[{ name: 'p', type: 'fifo' }], /entries of type fifo are not allowed/],
  ] as [E[], RegExp][])('rejects %j', async (entries, msg) => {
    await expect(extractTar(tarOf(entries), dest, limits)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(msg) });
    expect(outside()).toEqual([]);
  });

  it('refuses to write through a link that escapes via a link to "."', async () => {
    await expect(extractTar(tarOf([
      { name: 'd', type: 'symlink', linkname: '.' },
      { name: 'd/d/esc', type: 'symlink', linkname: '..' },
      { name: 'd/d/esc/x', body: 'pwned' },
    ]), dest, limits)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(outside()).toEqual([]);
  });

  it('replaces an earlier link instead of writing through it', async () => {
    fs.writeFileSync(path.join(base, 'victim'), 'safe');
    await expect(extractTar(tarOf([
      { name: 'l', type: 'symlink', linkname: 'x' },
      { name: 'l', body: 'new' },
    ]), dest, limits)).resolves.toEqual({ files: 2 });
    expect(fs.lstatSync(path.join(dest, 'l')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(base, 'victim'), 'utf8')).toBe('safe');
  });

  it('caps size and entry count', async () => {
    await expect(extractTar(tarOf([{ name: 'big', body: 'x'.repeat(4096) }]), dest, { maxBytes: 2048, maxFiles: 10 }))
      .rejects.toMatchObject({ code: 'BODY_TOO_LARGE' });
    const many = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, body: '' }));
    await expect(extractTar(tarOf(many), fs.mkdtempSync(path.join(base, 'dest2-')), { maxBytes: 1 << 20, maxFiles: 3 }))
      .rejects.toMatchObject({ code: 'BODY_TOO_LARGE', message: 'The source archive has more than 3 entries.' });
  });

  it('rejects garbage that is not a tar', async () => {
    await expect(extractTar(Readable.from([Buffer.from('x'.repeat(1024))]), dest, limits)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
