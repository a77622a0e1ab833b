// Per-app webhook settings: the inbound secret (sealed; none = webhooks off), the repository URL a
// verified push fetches, and the outbound notification URL + its signing secret (sealed). Also the
// delivery ids already received, so a replayed delivery is refused.
import type { Sealer } from '@dreamnet/core';
import type { Db } from '../db/open.js';

export interface AppHooks { secret: string | null; repoUrl: string | null; notifyUrl: string | null; notifySecret: string | null }
export type HooksPatch = Partial<AppHooks>;

interface Row { secret_sealed: string | null; repo_url: string | null; notify_url: string | null; notify_secret_sealed: string | null }

export class HooksRepo {
  constructor(private readonly db: Db, private readonly sealer: Sealer) {}

  get(app: string): AppHooks {
    const r = this.db.prepare('SELECT secret_sealed, repo_url, notify_url, notify_secret_sealed FROM app_hooks WHERE app = ?').get(app) as Row | undefined;
    return {
      secret: r?.secret_sealed ? this.sealer.open(r.secret_sealed) : null,
      repoUrl: r?.repo_url ?? null,
      notifyUrl: r?.notify_url ?? null,
      notifySecret: r?.notify_secret_sealed ? this.sealer.open(r.notify_secret_sealed) : null,
    };
  }

  set(app: string, patch: HooksPatch): AppHooks {
    const next = { ...this.get(app), ...patch };
    const seal = (v: string | null) => (v ? this.sealer.seal(v) : null);
    this.db.prepare(`INSERT INTO app_hooks (app, secret_sealed, repo_url, notify_url, notify_secret_sealed, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (app) DO UPDATE SET secret_sealed = excluded.secret_sealed, repo_url = excluded.repo_url, notify_url = excluded.notify_url,
      notify_secret_sealed = excluded.notify_secret_sealed, updated_at = excluded.updated_at`)
      .run(app, seal(next.secret), next.repoUrl, next.notifyUrl, seal(next.notifySecret), new Date().toISOString());
    return next;
  }

  /** Records a delivery id; false when it was already received (a replay). */
  recordDelivery(app: string, deliveryId: string): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO webhook_deliveries (app, delivery_id, at) VALUES (?, ?, ?)').run(app, deliveryId, new Date().toISOString()).changes === 1;
  }

  forgetDelivery(app: string, deliveryId: string): void {
    this.db.prepare('DELETE FROM webhook_deliveries WHERE app = ? AND delivery_id = ?').run(app, deliveryId);
  }
}
