// Order backoff that outlives the process. Kept only in memory, a proxy restarted in a loop (a crash,
// a bad setting, a host rebooting) ordered again at every start, and Let's Encrypt allows 5 failed
// validations per name per hour before it refuses the name. One small file per issuer and name,
// written atomically; a successful issue removes it. Other proxies on the same data dir read it too,
// so one process's failure also holds back its siblings. Files of names no longer served are swept
// once no process can be relying on them (sweep()).
import path from 'node:path';
import type { Logger } from 'pino';
import { renewAt, type Lifetime } from './renewal.js';
import { TlsStorage } from './storage.js';

export interface Backoff { failures: number; nextAttemptAt: number; error?: string }

/** The part of a manager entry that backoff reads and sets. */
export interface BackoffHolder extends Backoff {
  host: string;
  issuer: { id: string };
  state: string;
  /** The certificate served from this issuer, if any: one not due needs no order, so no backoff. */
  meta?: Lifetime;
}

/** How often sweep() looks for files of names no longer served. */
const SWEEP_EVERY_MS = 3600_000;

// Names come from the route table; anything else stays in memory rather than become a path.
const SAFE_HOST = /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

export class BackoffStore {
  constructor(private readonly storage: TlsStorage, private readonly log?: Logger) {}

  private lastSweep = -Infinity;

  private rel(issuer: string, host: string): string | undefined {
    if (!SAFE_HOST.test(host)) return undefined;
    return path.join('backoff', TlsStorage.issuerId(issuer), `${host.replace(/^\*\./, '_wildcard_.')}.json`);
  }

  load(issuer: string, host: string): Backoff | undefined {
    const rel = this.rel(issuer, host);
    return rel ? this.loadRel(rel, host) : undefined;
  }

  private loadRel(rel: string, host: string): Backoff | undefined {
    try {
      const text = this.storage.read(rel);
      if (text === undefined) return undefined;
      const b = JSON.parse(text) as { failures?: unknown; nextAttemptAt?: unknown; error?: unknown };
      const at = typeof b.nextAttemptAt === 'string' ? Date.parse(b.nextAttemptAt) : NaN;
      if (Number.isInteger(b.failures) && (b.failures as number) > 0 && Number.isFinite(at)) {
        return { failures: b.failures as number, nextAttemptAt: at, error: typeof b.error === 'string' ? b.error : undefined };
      }
    } catch { /* damaged: said below */ }
    // At worst one order too early; refusing to order the name at all would be worse.
    this.log?.warn({ host, file: this.storage.file(rel) }, `the order backoff file ${this.storage.file(rel)} is damaged; ignoring it`);
    return undefined;
  }

  save(h: BackoffHolder): void {
    const rel = this.rel(h.issuer.id, h.host);
    if (!rel) return;
    // 0600: the CA's reason can name internal hosts and account URLs.
    const body = { host: h.host, failures: h.failures, nextAttemptAt: new Date(h.nextAttemptAt).toISOString(), error: h.error };
    try { this.storage.write(rel, JSON.stringify(body, null, 2) + '\n', true); } catch (err) {
      this.log?.warn({ host: h.host, err: (err as Error).message }, 'order backoff not stored: a restart would order this name again at once');
    }
  }

  clear(h: BackoffHolder): void {
    const rel = this.rel(h.issuer.id, h.host);
    try { if (rel) this.storage.remove(rel); } catch (err) {
      this.log?.warn({ host: h.host, err: (err as Error).message }, 'order backoff not cleared');
    }
  }

  /**
   * Removes the files of names this process does not order (`wanted`: its entries) — removed from the
   * route table, or kept under another issuer — once their backoff ran out more than `maxMs` (the
   * longest backoff) ago; at most once an hour. Which names a sibling process on the data dir wants
   * is not known here, so this waits until none can be relying on the file: one that keeps ordering
   * the name rewrites it at each failure, at the latest a tick (and a throttle window) after it runs
   * out, so a file this stale has no writer left, and at worst a sibling restarted after a long
   * stop loses its failure count. Checked again and removed under the name's order lock, which every
   * writer holds, so a file a sibling writes meanwhile is never the one removed.
   */
  sweep(wanted: Iterable<{ host: string; issuer: { id: string } }>, now: number, maxMs: number, lockStaleMs: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    const keep = new Set<string>();
    for (const w of wanted) { const rel = this.rel(w.issuer.id, w.host); if (rel) keep.add(rel); }
    const stale = (rel: string, host: string) => { const b = this.loadRel(rel, host); return b !== undefined && now - b.nextAttemptAt > maxMs; };
    try {
      for (const issuer of this.storage.list('backoff')) {
        for (const f of this.storage.list(path.join('backoff', issuer))) {
          const host = f.replace(/\.json$/, '').replace(/^_wildcard_\./, '*.');
          const rel = path.join('backoff', issuer, f);
          if (!f.endsWith('.json') || !SAFE_HOST.test(host) || keep.has(rel) || !stale(rel, host)) continue;
          const release = this.storage.tryLock(host, lockStaleMs);
          if (!release) continue; // being ordered right now: next sweep
          try {
            if (stale(rel, host)) { this.storage.remove(rel); this.log?.info({ host, file: this.storage.file(rel) }, 'order backoff of a name no longer served removed'); }
          } finally { release(); }
        }
      }
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'order backoff files not swept');
    }
  }

  /**
   * Takes over a stored backoff that ends later than the one in memory (an earlier run, or another
   * process on this data dir that just failed) for a name that needs an order: one with no
   * certificate, or one due for renewal. True when it holds the name back at `now`. A name served
   * with a certificate not due here is left alone: a sibling's failure there (it picked an earlier
   * point in the CA's renewal window, its clock runs ahead) said "issued" with the sibling's error in
   * `dream domains`, for a name that serves fine. The file is read again under the order lock once
   * the name is due (order.ts), so the sibling's backoff still holds this process back then.
   */
  restore(h: BackoffHolder, now: number): boolean {
    if (h.meta && now < renewAt(h.meta)) return false;
    const b = this.load(h.issuer.id, h.host);
    if (!b || b.nextAttemptAt <= h.nextAttemptAt) return false;
    // As this process's own failed order would have left it (order.ts).
    Object.assign(h, { failures: Math.max(h.failures, b.failures), nextAttemptAt: b.nextAttemptAt, error: b.error ?? h.error, state: 'failing' });
    if (b.nextAttemptAt <= now) return false;
    this.log?.info({ host: h.host, failures: b.failures, retryAt: new Date(b.nextAttemptAt).toISOString(), err: b.error },
      'certificate order held back: it failed before (this run or another process), the CA is not asked again until retryAt');
    return true;
  }
}
