// Safe extraction of an uploaded source tarball into an empty directory. Rejects absolute paths,
// `..`, device files, links that lead outside the directory, and writes through links; caps the
// archive size and the entry count. A rejected archive throws a DreamError whose message names the
// offending entry.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { DreamError } from '@dreamnet/core';

export interface ExtractLimits {
  maxBytes: number;
  maxFiles: number;
}

const reject = (name: string, why: string) =>
  new DreamError('VALIDATION_FAILED', `Archive entry ${JSON.stringify(name.slice(0, 200))} was rejected: ${why}.`);

const inside = (root: string, p: string) => p === root || p.startsWith(root + path.sep);

/** Splits an entry name into safe path components, or throws. Empty array = the root itself. */
export function entryParts(name: string): string[] {
  if (name.includes('\0')) throw reject(name, 'the name contains a NUL byte');
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) throw reject(name, 'absolute paths are not allowed');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw reject(name, '".." is not allowed in paths');
  return parts;
}

/** Makes the parent directories of `parts` under root, refusing to pass through anything leading outside. */
async function ensureParent(root: string, parts: string[], name: string): Promise<string> {
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const st = await fsp.lstat(dir).catch(() => null);
    if (!st) { await fsp.mkdir(dir, { mode: 0o755 }); continue; }
    if (st.isDirectory()) continue;
    if (!st.isSymbolicLink()) throw reject(name, `${parts.join('/')} is below a file`);
    const real = await fsp.realpath(dir).catch(() => null);
    if (!real || !inside(root, real) || !(await fsp.stat(real)).isDirectory()) throw reject(name, 'it is below a link that leads outside the archive');
  }
  const real = await fsp.realpath(dir);
  if (!inside(root, real)) throw reject(name, 'it is below a link that leads outside the archive');
  return real;
}

/** Removes whatever non-directory is at `p` so that the new entry never writes through a link. */
async function clearPath(p: string, name: string): Promise<void> {
  const st = await fsp.lstat(p).catch(() => null);
  if (!st) return;
  if (st.isDirectory()) throw reject(name, 'a directory with that name already exists');
  await fsp.unlink(p);
}

function byteCounter(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) cb(new DreamError('BODY_TOO_LARGE', `The source archive is larger than ${max} bytes.`));
      else cb(null, chunk);
    },
  });
}

async function writeEntry(root: string, entry: tar.Header, stream: Readable, signal: AbortSignal): Promise<void> {
  const name = entry.name;
  const parts = entryParts(name);
  if (parts.length === 0) { stream.resume(); return; }
  const parent = await ensureParent(root, parts, name);
  const target = path.join(parent, parts[parts.length - 1]!);
  switch (entry.type) {
    case 'directory': {
      const st = await fsp.lstat(target).catch(() => null);
      if (st && !st.isDirectory()) throw reject(name, 'something else with that name already exists');
      if (!st) await fsp.mkdir(target, { mode: 0o755 });
      stream.resume();
      return;
    }
    case 'file': case 'contiguous-file': {
      await clearPath(target, name);
      // 'wx' = O_CREAT|O_EXCL: never follows a link planted at this name.
      const mode = (entry.mode ?? 0o644) & 0o111 ? 0o755 : 0o644;
      await pipeline(stream, fs.createWriteStream(target, { flags: 'wx', mode }), { signal });
      return;
    }
    case 'symlink': {
      const link = entry.linkname ?? '';
      if (link === '' || path.isAbsolute(link) || link.includes('\0')) throw reject(name, 'symbolic links must be relative');
      if (!inside(root, path.resolve(parent, link))) throw reject(name, 'the symbolic link leads outside the archive');
      await clearPath(target, name);
      await fsp.symlink(link, target);
      stream.resume();
      return;
    }
    case 'link': {
      // Hard links are materialised as copies of an earlier regular file of the archive.
      const srcParts = entryParts(entry.linkname ?? '');
      const srcParent = await ensureParent(root, srcParts, name);
      const src = path.join(srcParent, srcParts[srcParts.length - 1] ?? '');
      const st = await fsp.lstat(src).catch(() => null);
      if (!st || !st.isFile()) throw reject(name, 'a hard link must point to an earlier regular file in the archive');
      await clearPath(target, name);
      await fsp.copyFile(src, target, fs.constants.COPYFILE_EXCL);
      stream.resume();
      return;
    }
    default:
      throw reject(name, `entries of type ${entry.type} are not allowed`);
  }
}

/** Final check: every link in the tree that resolves must resolve inside root. */
async function checkLinks(root: string, dir: string): Promise<void> {
  for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) await checkLinks(root, p);
    else if (d.isSymbolicLink()) {
      const real = await fsp.realpath(p).catch(() => null);
      if (real && !inside(root, real)) throw reject(path.relative(root, p), 'the symbolic link leads outside the archive');
    }
  }
}

/** Extracts the tar `input` into `dest` (an existing, empty directory). */
export async function extractTar(input: NodeJS.ReadableStream, dest: string, limits: ExtractLimits): Promise<{ files: number }> {
  const root = await fsp.realpath(dest);
  const ex = tar.extract();
  let files = 0;
  const done = pipeline(input as Readable, byteCounter(limits.maxBytes), ex as unknown as NodeJS.WritableStream);
  // When the archive stream fails while an entry is being written, tar-stream's entry stream may
  // already be gone; aborting the write keeps it from waiting forever.
  const failed = new AbortController();
  done.catch(() => failed.abort());
  try {
    for await (const entry of ex) {
      if (++files > limits.maxFiles) throw new DreamError('BODY_TOO_LARGE', `The source archive has more than ${limits.maxFiles} entries.`);
      await writeEntry(root, entry.header, entry as unknown as Readable, failed.signal);
    }
    await done;
  } catch (e) {
    ex.destroy();
    (input as Readable).destroy?.();
    const err = await done.then(() => e, (pe: unknown) => (pe instanceof DreamError ? pe : e));
    if (err instanceof DreamError) throw err;
    throw new DreamError('VALIDATION_FAILED', `The source archive could not be read: ${(err as Error).message}`);
  }
  await checkLinks(root, root);
  return { files };
}
