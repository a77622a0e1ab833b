import type { Db } from './open.js';
import { now } from './open.js';
import { DreamError } from '@dreamnet/core';

export interface AppRow {
  name: string;
  deploy_branch: string;
  replicas: number;
  health_path: string | null;
  /** Bytes (0: no limit); null: the proxy's default. */
  max_request_body: number | null;
  /** 1/0; null: the proxy's default. */
  request_buffering: number | null;
  current_release_id: string | null;
  created_at: string;
  updated_at: string;
}

export class AppsRepo {
  constructor(private readonly db: Db) {}

  create(name: string, deployBranch: string): AppRow {
    const t = now();
    try {
      this.db.prepare('INSERT INTO apps (name, deploy_branch, created_at, updated_at) VALUES (?, ?, ?, ?)').run(name, deployBranch, t, t);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new DreamError('APP_EXISTS', `An app named "${name}" already exists. Pick another name.`);
      throw e;
    }
    return this.get(name);
  }

  find(name: string): AppRow | undefined {
    return this.db.prepare('SELECT * FROM apps WHERE name = ?').get(name) as AppRow | undefined;
  }

  get(name: string): AppRow {
    const row = this.find(name);
    if (!row) throw new DreamError('APP_NOT_FOUND', `No app named "${name}". List apps with \`dream apps\`.`);
    return row;
  }

  list(): AppRow[] {
    return this.db.prepare('SELECT * FROM apps ORDER BY name').all() as AppRow[];
  }

  /** Up to `limit` apps after `after` by name, limited to `only` when the token names apps. */
  page(after: string | undefined, limit: number, only: string[] | null): AppRow[] {
    const filter = only ? ` AND name IN (SELECT value FROM json_each(?))` : '';
    const args: unknown[] = [after ?? ''];
    if (only) args.push(JSON.stringify(only));
    return this.db.prepare(`SELECT * FROM apps WHERE name > ?${filter} ORDER BY name LIMIT ?`).all(...args, limit) as AppRow[];
  }

  update(name: string, fields: Partial<Pick<AppRow, 'deploy_branch' | 'replicas' | 'health_path' | 'current_release_id' | 'max_request_body' | 'request_buffering'>>): AppRow {
    const keys = Object.keys(fields) as (keyof typeof fields)[];
    if (keys.length) {
      const sets = keys.map((k) => `${k} = @${k}`).join(', ');
      this.db.prepare(`UPDATE apps SET ${sets}, updated_at = @updated_at WHERE name = @name`).run({ ...fields, updated_at: now(), name });
    }
    return this.get(name);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM apps WHERE name = ?').run(name);
  }
}
