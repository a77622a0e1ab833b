import type { Db } from './open.js';
import { now } from './open.js';
import { fingerprint, type Sealer } from '@dreamnet/core';

export interface ConfigVarInfo { key: string; fingerprint: string; updatedAt: string }

/** Config vars: values sealed at rest; only names and fingerprints ever leave this file decrypted-free. */
export class ConfigVarsRepo {
  constructor(private readonly db: Db, private readonly sealer: Sealer) {}

  list(app: string): ConfigVarInfo[] {
    return (this.db.prepare('SELECT key, fingerprint, updated_at FROM config_vars WHERE app = ? ORDER BY key').all(app) as { key: string; fingerprint: string; updated_at: string }[])
      .map((r) => ({ key: r.key, fingerprint: r.fingerprint, updatedAt: r.updated_at }));
  }

  /** Decrypted values, for building a release snapshot only. */
  values(app: string): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value_sealed FROM config_vars WHERE app = ?').all(app) as { key: string; value_sealed: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, this.sealer.open(r.value_sealed)]));
  }

  apply(app: string, set: Record<string, string>, unset: string[]): void {
    const t = now();
    const put = this.db.prepare('INSERT INTO config_vars (app, key, value_sealed, fingerprint, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(app, key) DO UPDATE SET value_sealed = excluded.value_sealed, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at');
    const del = this.db.prepare('DELETE FROM config_vars WHERE app = ? AND key = ?');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(set)) put.run(app, k, this.sealer.seal(v), fingerprint(v), t);
      for (const k of unset) del.run(app, k);
    })();
  }

  /** Replaces every var with `values` (rollback restores the release's config). */
  replace(app: string, values: Record<string, string>): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM config_vars WHERE app = ?').run(app);
      this.apply(app, values, []);
    })();
  }
}
