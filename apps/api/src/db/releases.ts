import crypto from 'node:crypto';
import type { Db } from './open.js';
import { now } from './open.js';
import { DreamError, type Sealer } from '@dreamnet/core';

export interface Release {
  id: string;
  app: string;
  version: number;
  image: string;
  imageId: string;
  kind: string | null;
  gitSha: string | null;
  description: string;
  configKeys: string[];
  createdAt: string;
}

interface Row { id: string; app: string; version: number; image: string; image_id: string; config_sealed: string; config_keys: string; kind: string | null; git_sha: string | null; description: string; created_at: string }

const toRelease = (r: Row): Release => ({
  id: r.id, app: r.app, version: r.version, image: r.image, imageId: r.image_id, kind: r.kind, gitSha: r.git_sha,
  description: r.description, configKeys: JSON.parse(r.config_keys) as string[], createdAt: r.created_at,
});

/** Releases are immutable (a trigger forbids UPDATE); every change makes a new one. */
export class ReleasesRepo {
  constructor(private readonly db: Db, private readonly sealer: Sealer) {}

  create(input: { app: string; image: string; imageId: string; kind?: string | null; gitSha?: string | null; description: string; config: Record<string, string> }): Release {
    const id = `rel_${crypto.randomBytes(8).toString('hex')}`;
    this.db.transaction(() => {
      const { v } = this.db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM releases WHERE app = ?').get(input.app) as { v: number };
      this.db.prepare('INSERT INTO releases (id, app, version, image, image_id, config_sealed, config_keys, kind, git_sha, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, input.app, v, input.image, input.imageId, this.sealer.seal(JSON.stringify(input.config)), JSON.stringify(Object.keys(input.config).sort()), input.kind ?? null, input.gitSha ?? null, input.description, now());
    })();
    return this.get(input.app, id);
  }

  get(app: string, id: string): Release {
    const r = this.db.prepare('SELECT * FROM releases WHERE app = ? AND id = ?').get(app, id) as Row | undefined;
    if (!r) throw new DreamError('RELEASE_NOT_FOUND');
    return toRelease(r);
  }

  byVersion(app: string, version: number): Release {
    const r = this.db.prepare('SELECT * FROM releases WHERE app = ? AND version = ?').get(app, version) as Row | undefined;
    if (!r) throw new DreamError('RELEASE_NOT_FOUND', `App "${app}" has no release v${version}. List them with \`dream releases ${app}\`.`);
    return toRelease(r);
  }

  list(app: string): Release[] {
    return (this.db.prepare('SELECT * FROM releases WHERE app = ? ORDER BY version DESC').all(app) as Row[]).map(toRelease);
  }

  /** Up to `limit` releases older than version `before`, newest first. */
  page(app: string, before: number | undefined, limit: number): Release[] {
    return (this.db.prepare('SELECT * FROM releases WHERE app = ? AND version < ? ORDER BY version DESC LIMIT ?').all(app, before ?? Number.MAX_SAFE_INTEGER, limit) as Row[]).map(toRelease);
  }

  /** The release's config snapshot, decrypted, for the target only. */
  config(app: string, id: string): Record<string, string> {
    const r = this.db.prepare('SELECT config_sealed FROM releases WHERE app = ? AND id = ?').get(app, id) as { config_sealed: string } | undefined;
    if (!r) throw new DreamError('RELEASE_NOT_FOUND');
    return JSON.parse(this.sealer.open(r.config_sealed)) as Record<string, string>;
  }
}
