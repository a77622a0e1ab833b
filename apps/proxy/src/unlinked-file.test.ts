// The buffered body's file: nameless where O_TMPFILE works, named then unlinked where the file
// system refuses it (asked once), the directory made only when it is missing.
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { O_TMPFILE, unlinkedFiles } from './unlinked-file.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'unlinked-file-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** fs.promises.open, logging each call; O_TMPFILE refused with `refuse` (as vfat or an old kernel does). */
function opener(refuse?: string) {
  const calls: string[] = [];
  const open = async (file: string, flags: number | string, mode: number): Promise<FileHandle> => {
    const tmp = typeof flags === 'number' && (flags & O_TMPFILE) === O_TMPFILE;
    calls.push(tmp ? 'tmpfile' : 'named');
    if (tmp && refuse) throw Object.assign(new Error(`${refuse}: open '${file}'`), { code: refuse });
    return fs.promises.open(file, flags, mode);
  };
  return { open, calls };
}

async function roundTrip(fh: FileHandle): Promise<string> {
  await fh.write(Buffer.from('body bytes'), 0, 10, 0);
  const back = Buffer.alloc(10);
  await fh.read(back, 0, 10, 0);
  return back.toString();
}

describe('unlinkedFiles', () => {
  it.each(['EOPNOTSUPP', 'EISDIR'])('falls back to a named file unlinked at once when O_TMPFILE is refused with %s, and asks once', async (code) => {
    const dir = path.join(root, code);
    fs.mkdirSync(dir);
    const { open, calls } = opener(code);
    const openUnlinked = unlinkedFiles(open, true);
    const a = await openUnlinked(dir);
    const b = await openUnlinked(dir);
    expect(calls).toEqual(['tmpfile', 'named', 'named']);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(await roundTrip(a)).toBe('body bytes');
    expect((await a.stat()).nlink).toBe(0);
    await a.close();
    await b.close();
  });

  it('makes the directory when it is missing, and keeps O_TMPFILE after that ENOENT', async () => {
    const dir = path.join(root, 'missing', 'bodies');
    const { open, calls } = opener();
    const openUnlinked = unlinkedFiles(open, true);
    const a = await openUnlinked(dir);
    const b = await openUnlinked(dir);
    expect(calls).toEqual(['tmpfile', 'tmpfile', 'tmpfile']);
    expect((fs.statSync(dir).mode & 0o777).toString(8)).toBe('700');
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(await roundTrip(a)).toBe('body bytes');
    await a.close();
    await b.close();
  });

  it('gives up on another error, without a second try', async () => {
    const file = path.join(root, 'not-a-dir');
    fs.writeFileSync(file, '');
    const { open, calls } = opener();
    await expect(unlinkedFiles(open, true)(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(calls).toEqual(['tmpfile', 'named']);
  });
});
