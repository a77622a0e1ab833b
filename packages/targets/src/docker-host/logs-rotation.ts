// A json-file log's generations across rotation: Docker renames `<path>` to `<path>.1` (older ones
// to .2, .3 …) and starts a new `<path>`, so a generation is told by its inode, not by its name.
// logs-file.ts reads them in order with these.
import fs from 'node:fs';
import path from 'node:path';

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

export interface Gen { name: string; ino: number }
export type Opened = { fh: fs.promises.FileHandle; ino: number };

/**
 * The log's generations, oldest first, each with the inode that names it across renames. Docker only
 * moves files up (`<path>` to .1, .n to .n+1, highest first), so the names are looked at upwards from
 * `<path>`: a file that moves during the look is met again further up, not skipped (kept at its first,
 * newer place). A look during which `<path>` changed saw more than one rotation: look again.
 */
export async function generations(file: string): Promise<Gen[]> {
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
export async function openGen(file: string, g: Gen): Promise<Opened | null> {
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
export async function successor(file: string, fh: fs.promises.FileHandle, ino: number): Promise<Opened | null> {
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
