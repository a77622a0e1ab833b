import crypto from 'node:crypto';
import type { Db } from './open.js';
import { now } from './open.js';
import { hashToken, randomToken } from '@dreamnet/core';

export type Scope = 'admin' | 'deploy' | 'read';
export interface TokenRow { id: string; name: string; scope: Scope; apps: string[] | null; createdAt: string; lastUsedAt: string | null }

/** API tokens, stored as SHA-256 hashes; the secret is returned once, at creation. */
export class TokensRepo {
  constructor(private readonly db: Db) {}

  create(name: string, scope: Scope, apps: string[] | null = null): { token: string; row: TokenRow } {
    const token = randomToken('dream');
    const id = `tok_${crypto.randomBytes(6).toString('hex')}`;
    this.db.prepare('INSERT INTO tokens (id, name, hash, scope, apps, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, name, hashToken(token), scope, apps ? JSON.stringify(apps) : null, now());
    return { token, row: this.find(hashToken(token))! };
  }

  /** Lookup by hash: the hash is the index, so no secret-dependent comparison happens in JS. */
  verify(token: string): TokenRow | undefined {
    const row = this.find(hashToken(token));
    if (row) this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(now(), row.id);
    return row;
  }

  /** Up to `limit` tokens after row `after`, oldest first (never hashes). */
  page(after: number | undefined, limit: number): (TokenRow & { seq: number })[] {
    const rows = this.db.prepare('SELECT rowid AS seq, id, name, scope, apps, created_at, last_used_at FROM tokens WHERE rowid > ? ORDER BY rowid LIMIT ?').all(after ?? 0, limit) as { seq: number; id: string; name: string; scope: Scope; apps: string | null; created_at: string; last_used_at: string | null }[];
    return rows.map((r) => ({ seq: r.seq, id: r.id, name: r.name, scope: r.scope, apps: r.apps ? (JSON.parse(r.apps) as string[]) : null, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
  }

  /** Deletes the token (it stops working at once); false when there is none with that id. */
  revoke(id: string): boolean {
    return this.db.prepare('DELETE FROM tokens WHERE id = ?').run(id).changes === 1;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as { n: number }).n;
  }

  private find(hash: string): TokenRow | undefined {
    const r = this.db.prepare('SELECT id, name, scope, apps, created_at, last_used_at FROM tokens WHERE hash = ?').get(hash) as { id: string; name: string; scope: Scope; apps: string | null; created_at: string; last_used_at: string | null } | undefined;
    return r && { id: r.id, name: r.name, scope: r.scope, apps: r.apps ? (JSON.parse(r.apps) as string[]) : null, createdAt: r.created_at, lastUsedAt: r.last_used_at };
  }
}
