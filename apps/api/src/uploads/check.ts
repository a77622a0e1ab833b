// Checks an uploaded source archive while saving it, before anything is extracted or built: the api
// never extracts it (the builder does, with its own checks), it only stream-parses the tar headers.
// Rejects absolute paths, `..`, links leading outside the archive, devices/fifos, and enforces the
// byte and entry caps, including sizes a header merely claims. The saved copy is always plain tar.
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { DreamError, isDreamError } from '@dreamnet/core';

export interface ArchiveLimits { maxBytes: number; maxFiles: number }
export interface CheckedArchive { file: string; entries: number; bytes: number }

const rejected = (name: string, why: string) =>
  new DreamError('ARCHIVE_REJECTED', `Archive entry ${JSON.stringify(name.slice(0, 200))} was rejected: ${why}.`);
const tooLarge = (why: string) => new DreamError('ARCHIVE_TOO_LARGE', `The source archive was rejected: ${why}.`);

/** Safe relative components of an entry name, or throws ARCHIVE_REJECTED. Pure. */
export function safeParts(name: string): string[] {
  if (name.includes('\0')) throw rejected(name, 'the name contains a NUL byte');
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) throw rejected(name, 'absolute paths are not allowed');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw rejected(name, '".." is not allowed in paths');
  return parts;
}

/** Throws unless a link entry stays inside the archive root. Pure. */
export function checkLink(h: Pick<tar.Header, 'name' | 'type' | 'linkname'>): void {
  const target = h.linkname ?? '';
  if (target === '' || target.includes('\0')) throw rejected(h.name, 'the link has no valid target');
  if (h.type === 'link') { safeParts(target); return; } // hardlink targets are archive paths
  if (target.startsWith('/') || /^[A-Za-z]:[\\/]/.test(target)) throw rejected(h.name, `it links to an absolute path (${target.slice(0, 100)})`);
  const dir = path.posix.dirname(safeParts(h.name).join('/'));
  const resolved = path.posix.normalize(path.posix.join('/root', dir, target));
  if (resolved !== '/root' && !resolved.startsWith('/root/')) throw rejected(h.name, `it links outside the archive (${target.slice(0, 100)})`);
}

const ALLOWED = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link']);

function counter(max: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      seen += chunk.length;
      if (seen > max) cb(tooLarge(`${what} is larger than ${max} bytes`));
      else cb(null, chunk);
    },
  });
}

/** Copies every chunk to `file` (respecting its backpressure) and passes it on. */
function saveTo(file: string): Transform {
  const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
  out.on('error', () => {}); // reported through the write callback
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (out.destroyed) return cb(new Error('upload aborted'));
      out.write(chunk, (err) => cb(err ?? null, chunk));
    },
    flush(cb) { out.end(cb); },
    destroy(err, cb) { out.destroy(); cb(err); },
  });
}

/** Reads `body` (tar, or tar.gz when `gzip`), saving plain tar to `<dir>/source.tar`. */
export async function receiveArchive(body: Readable, dir: string, gzip: boolean, limits: ArchiveLimits): Promise<CheckedArchive> {
  const file = path.join(dir, 'source.tar');
  let entries = 0;
  let bytes = 0;
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    stream.on('error', () => {}); // a rejection destroys the entry stream too; the pipeline reports it
    try {
      entries++;
      if (entries > limits.maxFiles) throw tooLarge(`it has more than ${limits.maxFiles} entries`);
      const type = h.type ?? 'file';
      if (!ALLOWED.has(type)) throw rejected(h.name, `${type} entries are not allowed`);
      safeParts(h.name);
      if (type === 'symlink' || type === 'link') checkLink(h);
      const size = h.size ?? 0;
      if (size > limits.maxBytes) throw tooLarge(`entry ${JSON.stringify(h.name.slice(0, 200))} claims ${size} bytes, more than ${limits.maxBytes}`);
      bytes += size;
      if (bytes > limits.maxBytes) throw tooLarge(`its files add up to more than ${limits.maxBytes} bytes`);
    } catch (e) {
      stream.resume();
      extract.destroy(e as Error);
      return;
    }
    stream.on('end', next);
    stream.resume();
  });
  const stages: NodeJS.ReadWriteStream[] = [counter(limits.maxBytes, 'the upload')];
  if (gzip) stages.push(zlib.createGunzip(), counter(limits.maxBytes, 'the uncompressed archive'));
  try {
    await pipeline([body, ...stages, saveTo(file), extract as unknown as NodeJS.WritableStream]);
  } catch (e) {
    if (isDreamError(e)) throw e;
    throw new DreamError('ARCHIVE_REJECTED', `The upload is not a valid ${gzip ? 'tar.gz' : 'tar'} archive (${(e as Error).message}). Send a tar with Content-Type: application/x-tar, or tar.gz with application/gzip.`);
  }
  if (entries === 0) throw new DreamError('ARCHIVE_REJECTED', 'The archive is empty.');
  return { file, entries, bytes };
}
