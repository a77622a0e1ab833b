// Idempotency keys of deploy creation: the same token sending the same `Idempotency-Key` again
// (a retried upload) gets the deployment the first request made instead of a second deploy.
import { DreamError } from '@dreamnet/core';
import type { Db } from '../db/index.js';

/** Keys are remembered this long; a retry after that is a new request. */
export const KEY_TTL_MS = 24 * 60 * 60 * 1000;
export const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

export type Claim = { kind: 'new' } | { kind: 'done'; deploymentId: string };

export class IdempotencyRepo {
  constructor(private readonly db: Db) {}

  /** Claims `key` for this token and app, or says which deployment it already made. */
  claim(tokenId: string, key: string, app: string, now = Date.now()): Claim {
    if (!KEY_PATTERN.test(key)) throw new DreamError('VALIDATION_FAILED', 'Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 _ . : -.');
    this.db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?').run(new Date(now - KEY_TTL_MS).toISOString());
    const ins = this.db.prepare('INSERT OR IGNORE INTO idempotency_keys (token_id, key, app, created_at) VALUES (?, ?, ?, ?)').run(tokenId, key, app, new Date(now).toISOString());
    if (ins.changes === 1) return { kind: 'new' };
    const row = this.db.prepare('SELECT app, deployment_id FROM idempotency_keys WHERE token_id = ? AND key = ?').get(tokenId, key) as { app: string; deployment_id: string | null };
    if (row.app !== app) throw new DreamError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${key}" was already used for app "${row.app}".`);
    if (!row.deployment_id) throw new DreamError('IDEMPOTENCY_KEY_REUSED', `A request with Idempotency-Key "${key}" is still being accepted; retry in a moment.`);
    return { kind: 'done', deploymentId: row.deployment_id };
  }

  complete(tokenId: string, key: string, deploymentId: string): void {
    this.db.prepare('UPDATE idempotency_keys SET deployment_id = ? WHERE token_id = ? AND key = ?').run(deploymentId, tokenId, key);
  }

  /** The request was refused (bad archive): the client may retry with the same key. */
  release(tokenId: string, key: string): void {
    this.db.prepare('DELETE FROM idempotency_keys WHERE token_id = ? AND key = ? AND deployment_id IS NULL').run(tokenId, key);
  }
}
