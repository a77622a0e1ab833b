// Reads one container's json-file log straight from disk (the api runs on the Docker host): much
// faster than Docker's follow API, which tops out at a few thousand lines/s. Follows appends with
// fs.watch on the container's folder plus a short poll (watch events can be missed), and follows
// rotation: the open descriptor is read to its end before the reader moves on to the file that came
// right after it (logs-rotation.ts finds it by inode, not by name), so no line is lost while this
// reader stays fewer than max-file files behind.
import fs from 'node:fs';
import path from 'node:path';
import { JsonLogDecoder, type FileEntry } from './logs-json.js';
import { timeKey } from './frames.js';
import { generations, openGen, successor, type Opened } from './logs-rotation.js';

export interface FileReadOptions {
  /** Only lines stamped at or after this `timeKey` (inclusive, like Docker's `since`). */
  sinceKey?: string;
  /** Only the last n lines already written (0: only new ones). */
  tail?: number;
  /** Keep reading new lines until `alive()` answers false, then read what is left and end. */
  follow: boolean;
  alive?: () => Promise<boolean>;
  /** Poll interval when no watch event comes (ms). */
  pollMs?: number;
  /** How often `alive()` is asked while the file is idle (ms). */
  aliveMs?: number;
}

const CHUNK = 1 << 20;

/** The time key of a file's first entry, or null (empty or unreadable). */
async function firstKey(file: string): Promise<string | null> {
  const fh = await fs.promises.open(file, 'r').catch(() => null);
  if (!fh) return null;
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const dec = new JsonLogDecoder();
    const first = [...dec.push(buf.subarray(0, bytesRead)), ...dec.flush()][0];
    return first ? timeKey(first.at) : null;
  } finally {
    await fh.close();
  }
}

/** Which file to start in: the newest whose first line is not after `sinceKey` (older ones hold only older lines). */
async function startIndex(files: string[], sinceKey: string | undefined): Promise<number> {
  if (sinceKey === undefined) return 0;
  for (let i = files.length - 1; i > 0; i--) {
    const k = await firstKey(files[i]!);
    if (k !== null && k <= sinceKey) return i;
  }
  return 0;
}

/** Batches of lines of one json-file log (and its rotated predecessors), in the order Docker wrote them. */
export async function* readLogFile(file: string, o: FileReadOptions): AsyncGenerator<FileEntry[]> {
  let first: Opened | null = null;
  for (let tries = 0; !first; tries++) {
    const gens = await generations(file);
    if (gens.length === 0) throw Object.assign(new Error(`no log file at ${file}`), { code: 'ENOENT' });
    const g = gens[o.tail === 0 ? gens.length - 1 : await startIndex(gens.map((x) => x.name), o.sinceKey)]!;
    // Deleted before we could open it, again and again: take whatever has its name now.
    const h = tries < 10 ? null : await fs.promises.open(g.name, 'r');
    first = h ? { fh: h, ino: (await h.stat()).ino } : await openGen(file, g);
  }
  let { fh, ino } = first;
  // tail 0: from the end; a half-written last entry then fails to parse and is dropped.
  let pos = o.tail === 0 ? (await fh.stat()).size : 0;
  const dec = new JsonLogDecoder();
  const buf = Buffer.allocUnsafe(CHUNK);
  // Catching up with a tail: keep only the last n lines until the present is reached.
  let ring: FileEntry[] | null = o.tail !== undefined && o.tail > 0 ? [] : null;
  let ending = !o.follow;
  let lastAlive = 0;
  let wake: (() => void) | null = null;
  const poke = () => { const w = wake; wake = null; w?.(); };
  const watcher = o.follow ? watchDir(path.dirname(file), poke) : null;
  const keep = (es: FileEntry[]) => (o.sinceKey === undefined ? es : es.filter((e) => timeKey(e.at) >= o.sinceKey!));
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        const es = keep(dec.push(buf.subarray(0, bytesRead)));
        if (ring) {
          ring.push(...es);
          if (ring.length > o.tail! * 2) ring = ring.slice(ring.length - o.tail!);
        } else if (es.length > 0) {
          yield es;
        }
        continue;
      }
      // End of this file. Rotated since? Everything Docker wrote to it happened before the rename we
      // saw, so one more read gets the rest; then go on with the next newer file.
      const next = await successor(file, fh, ino);
      if (next) {
        const again = await fh.read(buf, 0, CHUNK, pos);
        if (again.bytesRead > 0) { await next.fh.close(); continue; }
        await fh.close();
        ({ fh, ino } = next);
        pos = 0;
        continue;
      }
      if (ring) {
        const last = ring.slice(Math.max(0, ring.length - o.tail!));
        ring = null;
        if (last.length > 0) yield last;
      }
      if (ending) {
        const rest = keep(dec.flush());
        if (rest.length > 0) yield rest;
        return;
      }
      if (o.alive && Date.now() - lastAlive >= (o.aliveMs ?? 1000)) {
        lastAlive = Date.now();
        // Docker writes a container's last lines before it reports it stopped: read once more, then end.
        if (!(await o.alive())) { ending = true; continue; }
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(poke, o.pollMs ?? 200).unref();
      });
    }
  } finally {
    watcher?.close();
    await fh.close().catch(() => {});
  }
}

function watchDir(dir: string, onChange: () => void): { close(): void } | null {
  try {
    const w = fs.watch(dir, { persistent: false }, onChange);
    w.on('error', () => {}); // The folder went away (container removed): the poll and alive() end the read.
    return w;
  } catch {
    return null;
  }
}
