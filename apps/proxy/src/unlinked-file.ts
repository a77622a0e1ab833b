// A file for a buffered request body (buffered-body.ts) that no name ever points to once it is
// open, so a crash leaves nothing behind. Linux's O_TMPFILE (with O_DIRECTORY) makes one with no
// name at all, in one call instead of three (open, unlink; the mkdir only when the directory is
// missing). Where the file system cannot (EOPNOTSUPP, EISDIR on older kernels), a named file
// unlinked at once; that answer is remembered, so it is asked once.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

export const O_TMPFILE = 0o20200000;

type Open = (file: string, flags: number | string, mode: number) => Promise<FileHandle>;

/** `open` is fs.promises.open; tests give one that refuses O_TMPFILE, as such a file system does. */
export function unlinkedFiles(open: Open = fs.promises.open, nameless = process.platform === 'linux'): (dir: string) => Promise<FileHandle> {
  return async (dir) => {
    for (let tries = 0; ; tries++) {
      try {
        if (nameless) {
          try {
            return await open(dir, O_TMPFILE | fs.constants.O_RDWR, 0o600);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw e;
            nameless = false;
          }
        }
        const name = path.join(dir, randomUUID());
        const fh = await open(name, 'wx+', 0o600);
        await fs.promises.unlink(name).catch(() => {});
        return fh;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || tries > 0) throw e;
        await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      }
    }
  };
}

export const openUnlinked = unlinkedFiles();
