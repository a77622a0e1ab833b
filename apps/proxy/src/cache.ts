// The on-disk copy of the last route table, so a restarted proxy serves while the api is down.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseSnapshot, type RouteSnapshot } from './table.js';

export function cacheFile(dataDir: string): string {
  return path.join(dataDir, 'proxy', 'routes.json');
}

/** The cached snapshot, or null when there is none or it is unreadable (never throws). */
export async function loadCachedRoutes(file: string): Promise<RouteSnapshot | null> {
  try {
    return parseSnapshot(JSON.parse(await fs.readFile(file, 'utf8')));
  } catch {
    return null;
  }
}

let seq = 0;

/** Writes tmp + rename so a crash mid-write never leaves a torn file behind. */
export async function saveCachedRoutes(file: string, snap: RouteSnapshot): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${++seq}.tmp`;
  try {
    await fs.writeFile(tmp, JSON.stringify(snap) + '\n', { mode: 0o600 });
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
