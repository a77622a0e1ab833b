// The route source's side of the on-disk table (../cache.ts is the file's format): the cached table
// read once at start, to serve until the api answers (a damaged one is not served, and says why), and
// every table the api sends written after it, one write at a time: tables that come while a write
// runs are written once, the last (a route change at 5 000 apps must not queue a write per version).
// Moved out of source.ts (past 200 lines), no behaviour change.
import type { Logger } from 'pino';
import { cacheFile, readCachedRoutes, saveCachedRoutes } from '../cache.js';
import type { RouteSnapshot } from '../table.js';

export class TableCache {
  readonly file: string;
  private chain: Promise<void> = Promise.resolve();
  /** The newest table not yet being written. */
  private unsaved: { snap: RouteSnapshot; apiText?: string } | null = null;

  constructor(dataDir: string, private readonly log: Logger) {
    this.file = cacheFile(dataDir);
  }

  /** The cached table, if there is one this proxy reads whole (an unusable one is logged, not served). */
  async load(): Promise<RouteSnapshot | undefined> {
    const cache = await readCachedRoutes(this.file);
    if ('snapshot' in cache) return cache.snapshot;
    if ('unusable' in cache) {
      // Nothing of it is served: a half-read or misread table could send a host to the wrong app.
      this.log.warn({ file: this.file }, `route cache ${this.file} ignored: ${cache.unusable}; no app is served until the api answers (the file is replaced then)`);
    }
    return undefined;
  }

  /** Writes `snap` (as the api's own JSON `apiText`, when that is exactly it) after the writes before it. */
  save(snap: RouteSnapshot, apiText: string | undefined): void {
    const queued = this.unsaved !== null;
    this.unsaved = { snap, apiText };
    if (queued) return;
    this.chain = this.chain
      .then(() => { const u = this.unsaved!; this.unsaved = null; return saveCachedRoutes(this.file, u.snap, u.apiText); })
      .catch((e) => this.log.error({ err: (e as Error).message, file: this.file }, 'could not cache routes'));
  }

  /** Resolves once the writes asked for so far are done (or failed, logged). */
  flushed(): Promise<void> {
    return this.chain;
  }
}
