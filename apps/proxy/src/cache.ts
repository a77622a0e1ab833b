// The on-disk copy of the last route table, so a restarted proxy serves while the api is down.
// `{"format": 1, "version": …, "routes": […]}`; a file without `format` is format 1 (older proxies
// wrote none). Only a file this proxy reads whole is served: a damaged one, one with a broken entry
// or one a newer proxy wrote (another format) is ignored, with the reason, until the api answers.
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkSnapshot, type RouteSnapshot } from './table.js';

/** The cache layout this proxy writes and reads. */
export const CACHE_FORMAT = 1;

export function cacheFile(dataDir: string): string {
  return path.join(dataDir, 'proxy', 'routes.json');
}

export type CachedRoutes = { snapshot: RouteSnapshot } | { none: true } | { unusable: string };

/** The cached snapshot; `none` when there is no file; `unusable` with the reason otherwise (never throws). */
export async function readCachedRoutes(file: string): Promise<CachedRoutes> {
  let text: string;
  try { text = await fs.readFile(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { none: true };
    return { unusable: `it cannot be read (${(e as Error).message})` };
  }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { return { unusable: `it is not JSON (${(e as Error).message}), e.g. cut short` }; }
  const format = (raw as { format?: unknown } | null)?.format;
  if (format !== undefined && format !== CACHE_FORMAT) {
    return { unusable: typeof format === 'number' && format > CACHE_FORMAT
      ? `a newer proxy wrote it (format ${format}; this one reads format ${CACHE_FORMAT})`
      : `its format ${JSON.stringify(format).slice(0, 40)} is unknown (this proxy reads format ${CACHE_FORMAT})` };
  }
  const c = checkSnapshot(raw);
  if (!c.ok) return { unusable: `it is not a route table (${c.why})` };
  const b = c.broken[0];
  if (b) return { unusable: `${c.broken.length} of its entries cannot be read (entry ${b.index}${b.app ? `, app ${b.app}` : ''}: ${b.why})` };
  return { snapshot: c.snapshot };
}

/** The cached snapshot, or null when there is none or it is unusable (never throws). */
export async function loadCachedRoutes(file: string): Promise<RouteSnapshot | null> {
  const c = await readCachedRoutes(file);
  return 'snapshot' in c ? c.snapshot : null;
}

let seq = 0;

/**
 * Writes tmp + rename so a crash mid-write never leaves a torn file behind. `apiText`: the api's
 * JSON for exactly `snap` (no entry mended, no `format` of its own), written as it came with our
 * `format` put first: serializing the table again took 5-55 ms of the event loop at 5 000 apps
 * (a 730 KB table) on every change, copying it ~0.01 ms.
 */
export async function saveCachedRoutes(file: string, snap: RouteSnapshot, apiText?: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${++seq}.tmp`;
  const open = apiText?.indexOf('{') ?? -1;
  const text = open >= 0
    ? `{"format":${CACHE_FORMAT},${apiText!.slice(open + 1).trimEnd()}\n`
    : JSON.stringify({ format: CACHE_FORMAT, version: snap.version, routes: snap.routes }) + '\n';
  try {
    await fs.writeFile(tmp, text, { mode: 0o600 });
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
