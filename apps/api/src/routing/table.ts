// The route table the proxies long-poll (docs/architecture.md). Each change bumps the version;
// `waitForAcks(v)` resolves once every live proxy routes by v and has drained removed endpoints.
// A proxy is live from its first poll until it says goodbye (leave()) or has not been seen for
// PROXY_TTL_MS. With a registry (the api's database) the proxies outlive an api restart: right after
// one, no proxy has polled yet (each is backing off from the outage), and a switch that waited for
// none would stop old replicas while they still route to them.
import { EventEmitter } from 'node:events';
import { DreamError } from '@dreamnet/core';

/**
 * One app's route. `maxRequestBody` (bytes, 0: no limit) and `requestBuffering` are the app's own
 * proxy settings, absent when it has none (the proxy's DREAM_PROXY_* settings apply); a proxy that
 * does not know them ignores them.
 */
export interface RouteEntry { app: string; hosts: string[]; endpoints: { host: string; port: number }[]; maxRequestBody?: number; requestBuffering?: boolean }
export type RouteOptions = Pick<RouteEntry, 'maxRequestBody' | 'requestBuffering'>;
export interface RouteSnapshot { version: number; routes: RouteEntry[] }

export const PROXY_TTL_MS = 60_000;
/** A proxy's last-seen time is written to the registry at most this often. */
const PERSIST_EVERY_MS = 5_000;

/** Where the table keeps the proxies it knows across restarts (db/proxies.ts). */
export interface ProxyRegistry {
  seenSince(since: number): { id: string; seenAt: number }[];
  seen(id: string, at: number): void;
  forget(id: string, before: number): void;
}

export class RouteTable {
  // Starts from the clock so versions keep increasing across api restarts (proxies compare them).
  private version = Date.now();
  private readonly routes = new Map<string, RouteEntry>();
  private readonly proxies = new Map<string, { acked: number; seen: number; stored: number }>();
  /** Proxies that said goodbye: a poll of theirs the api still holds must not bring them back. */
  private readonly left = new Map<string, number>();
  private readonly registry?: ProxyRegistry;
  private readonly events = new EventEmitter();

  /** More hosts for an app on every set() — its custom domains (routes/domains.ts installs this). */
  extraHosts?: (app: string) => string[];
  /** An app's own proxy settings on every set() (routes/apps.ts installs this). */
  options?: (app: string) => RouteOptions;

  private readonly complete: Promise<void>;
  private markComplete!: () => void;
  private isComplete = false;
  private closing = false;
  private readonly closed = new Promise<void>((r) => this.events.once('closing', r));

  /**
   * `complete: false` (the api process): proxies are not answered until markComplete() — after the
   * reconciler's first pass — so a restarted api never hands out a table that lacks running apps.
   */
  constructor(opts: { complete?: boolean; registry?: ProxyRegistry } = {}) {
    this.events.setMaxListeners(0);
    this.registry = opts.registry;
    // Known from before a restart: waited for (nothing acked yet) until they ack or their TTL ends.
    for (const p of this.registry?.seenSince(Date.now() - PROXY_TTL_MS) ?? []) this.proxies.set(p.id, { acked: 0, seen: p.seenAt, stored: p.seenAt });
    this.complete = new Promise((r) => { this.markComplete = () => { this.isComplete = true; r(); }; });
    if (opts.complete !== false) this.markComplete();
  }

  /** The table now holds every app (called once the reconciler's first pass is done). */
  completed(): void {
    this.markComplete();
  }

  snapshot(): RouteSnapshot {
    return { version: this.version, routes: [...this.routes.values()] };
  }

  /** Sets an app's hosts and endpoints; returns the new version (unchanged if nothing changed). */
  set(app: string, hosts: string[], endpoints: { host: string; port: number }[]): number {
    const all = new Set([...hosts, ...(this.extraHosts?.(app) ?? [])]);
    const next: RouteEntry = { app, hosts: [...all].sort(), endpoints: endpoints.map(({ host, port }) => ({ host, port })), ...this.options?.(app) };
    if (JSON.stringify(this.routes.get(app)) === JSON.stringify(next)) return this.version;
    this.routes.set(app, next);
    return this.bump();
  }

  /** Re-applies an app's hosts (a domain was added or removed), keeping its endpoints; no-op when unrouted. */
  refreshHosts(app: string, hosts: string[]): number {
    const cur = this.routes.get(app);
    return cur ? this.set(app, hosts, cur.endpoints) : this.version;
  }

  /** Re-applies an app's proxy settings (they changed), keeping hosts and endpoints; no-op when unrouted. */
  refresh(app: string): number {
    const cur = this.routes.get(app);
    return cur ? this.set(app, cur.hosts, cur.endpoints) : this.version;
  }

  remove(app: string): number {
    if (!this.routes.delete(app)) return this.version;
    return this.bump();
  }

  /**
   * The api is stopping: held polls are answered now and new ones at once (with the table as it
   * is), so close() need not wait out a hold; proxies poll again and find the next api. A poll still
   * waiting for the first pass gets API_STOPPING, never a table that lacks running apps.
   */
  release(): void {
    this.closing = true;
    this.events.emit('change');
    this.events.emit('closing');
  }

  /** Long-poll: resolves with the snapshot once the version passes `since`, or after `waitMs`. */
  async poll(proxy: string, since: number, waitMs: number): Promise<RouteSnapshot> {
    // Seen before the first pass completes the table too: a switch meanwhile waits for it.
    this.seen(proxy);
    await Promise.race([this.complete, this.closed]);
    if (!this.isComplete) throw new DreamError('API_STOPPING');
    this.seen(proxy);
    // Any other version than ours (older, or from a previous api process) gets the table at once.
    if (since !== this.version || waitMs <= 0 || this.closing) return this.snapshot();
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, waitMs);
      function done() { clearTimeout(t); resolve(); }
      this.events.once('change', done);
    });
    this.seen(proxy);
    return this.snapshot();
  }

  ack(proxy: string, version: number): void {
    const p = this.seen(proxy);
    if (!p) return;
    p.acked = Math.max(p.acked, version);
    this.events.emit('ack');
  }

  /**
   * A proxy stopped serving (it says so once its last connection closed): no switch waits for it
   * any more. Ids are random per process, so one that left never polls again; a late poll or ack
   * of its own still in flight is ignored.
   */
  leave(proxy: string): void {
    const now = Date.now();
    this.left.set(proxy, now);
    for (const [id, at] of this.left) if (at < now - PROXY_TTL_MS) this.left.delete(id);
    this.proxies.delete(proxy);
    try { this.registry?.forget(proxy, now - PROXY_TTL_MS); } catch { /* its TTL ends it after a restart */ }
    this.events.emit('ack');
  }

  /** Resolves when every proxy seen recently has acked `version`, or after `timeoutMs` (returns false). */
  async waitForAcks(version: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.allAcked(version)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 1000));
        const self = this.events;
        function done() { clearTimeout(t); self.off('ack', done); resolve(); }
        this.events.once('ack', done);
      });
    }
    return true;
  }

  private allAcked(version: number): boolean {
    const cutoff = Date.now() - PROXY_TTL_MS;
    for (const p of this.proxies.values()) if (p.seen >= cutoff && p.acked < version) return false;
    return true;
  }

  private seen(proxy: string) {
    if (this.left.has(proxy)) return undefined;
    let p = this.proxies.get(proxy);
    if (!p) { p = { acked: 0, seen: 0, stored: 0 }; this.proxies.set(proxy, p); }
    p.seen = Date.now();
    if (this.registry && p.seen - p.stored >= PERSIST_EVERY_MS) {
      p.stored = p.seen;
      // Best effort: a failed write (a restore swapping the database) leaves the in-memory record.
      try { this.registry.seen(proxy, p.seen); } catch { /* next poll writes again */ }
    }
    return p;
  }

  private bump(): number {
    this.version++;
    this.events.emit('change');
    return this.version;
  }
}
