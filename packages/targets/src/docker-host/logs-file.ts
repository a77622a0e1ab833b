// Reads one container's json-file log straight from disk (the api runs on the Docker host): much
// faster than Docker's follow API, which tops out at a few thousand lines/s. Follows appends with
// fs.watch on the container's folder plus a short poll (watch events can be missed), and follows
// rotation: Docker renames `<path>` to `<path>.1` (older ones to .2, .3 …) and starts a new `<path>`;
// the open descriptor is read to its end before the reader moves on to the file that came right
// after it (found by inode, not by name), so no line is lost while this reader stays fewer than
// max-file files behind.
import fs from 'node:fs';
import path from 'node:path';
import { JsonLogDecoder, type FileEntry } from './logs-json.js';
import { timeKey } from './frames.js';

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

/** The log and its rotated files that exist, oldest first (`<path>.N` … `<path>.1`, `<path>`). */
export async function logFiles(file: string): Promise<string[]> {
  const base = path.basename(file);
  const names = await fs.promises.readdir(path.dirname(file)).catch(() => [] as string[]);
  const nums = names.filter((n) => n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)))
    .map((n) => Number(n.slice(base.length + 1))).sort((a, b) => b - a);
  return [...nums.map((n) => `${file}.${n}`), ...(names.includes(base) ? [file] : [])];
}

async function inode(file: string): Promise<number | null> {
  return fs.promises.stat(file).then((s) => s.ino, () => null);
}

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

interface Gen { name: string; ino: number }
type Opened = { fh: fs.promises.FileHandle; ino: number };

/**
 * The log's generations, oldest first, each with the inode that names it across renames. Docker only
 * moves files up (`<path>` to .1, .n to .n+1, highest first), so the names are looked at upwards from
 * `<path>`: a file that moves during the look is met again further up, not skipped (kept at its first,
 * newer place). A look during which `<path>` changed saw more than one rotation: look again.
 */
async function generations(file: string): Promise<Gen[]> {
  let gens: Gen[] = [];
  for (let tries = 0; tries < 10; tries++) {
    const oldest = (await logFiles(file))[0];
    const top = oldest && oldest !== file ? Number(oldest.slice(file.length + 1)) : 0;
    const names = [file, ...Array.from({ length: top + 1 }, (_, i) => `${file}.${i + 1}`)];
    const seen = new Set<number>();
    gens = [];
    for (const name of names) {
      const ino = await inode(name);
      if (ino !== null && !seen.has(ino)) { seen.add(ino); gens.unshift({ name, ino }); }
    }
    const newest = gens[gens.length - 1];
    if ((await inode(file)) === (newest?.name === file ? newest.ino : null)) break;
  }
  return gens;
}

/** Opens generation `g` wherever rotation has moved it since it was seen; null once Docker deleted it. */
async function openGen(file: string, g: Gen): Promise<Opened | null> {
  let name: string | undefined = g.name;
  for (let tries = 0; name && tries < 10; tries++) {
    const fh = await fs.promises.open(name, 'r').catch(() => null);
    if (fh && (await fh.stat()).ino === g.ino) return { fh, ino: g.ino };
    await fh?.close();
    name = (await generations(file)).find((x) => x.ino === g.ino)?.name;
  }
  return null;
}

/**
 * The generation after ours (open as `fh`, inode `ino`), opened, if Docker rotated ours; null while ours
 * is still the newest. It is told by inode, not by name: names shift with every rotation, and several
 * can come while this reader is busy (under load it may run a few files behind the writer).
 */
async function successor(file: string, fh: fs.promises.FileHandle, ino: number): Promise<Opened | null> {
  if ((await inode(file)) === ino) return null;
  for (let tries = 0; tries < 10; tries++) {
    const gens = await generations(file);
    const at = gens.findIndex((g) => g.ino === ino);
    if (at !== -1 && at === gens.length - 1) return null; // `<path>` not created yet.
    // Ours deleted by rotation (still open, so no links left): every file left is newer, the oldest
    // is the best left; lines in between are lost. Still linked but not seen: look again.
    const next = at !== -1 ? gens[at + 1] : (await fh.stat()).nlink === 0 ? gens[0] : undefined;
    const opened = next && await openGen(file, next);
    if (opened) return opened;
  }
  return null; // Rotating faster than we can look: try again at the next poll.
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
