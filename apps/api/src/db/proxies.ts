import type { Db } from './open.js';

/**
 * The proxies that poll the route table and when each was last seen (ms since the epoch), so an api
 * that restarts keeps waiting for their acks (routing/table.ts). A proxy that says goodbye is removed.
 */
export class ProxiesRepo {
  constructor(private readonly db: Db) {}

  /** Proxies seen at or after `since`. */
  seenSince(since: number): { id: string; seenAt: number }[] {
    return this.db.prepare('SELECT id, seen_at AS seenAt FROM proxies WHERE seen_at >= ?').all(since) as { id: string; seenAt: number }[];
  }

  seen(id: string, at: number): void {
    this.db.prepare('INSERT INTO proxies (id, seen_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at').run(id, at);
  }

  /** Forgets `id`, and every proxy not seen since `before` (long gone: ids are random per process). */
  forget(id: string, before: number): void {
    this.db.prepare('DELETE FROM proxies WHERE id = ? OR seen_at < ?').run(id, before);
  }
}
