// Backup and restore of a running api. Restore swaps the live database in place: the reconciler
// stops, the database closes, the staged files move in, a new store opens with the restored key and
// is assigned into the shared Store object (every service holds that object), then the reconciler
// starts again and brings the restored apps up.
import path from 'node:path';
import type { Readable } from 'node:stream';
import { DreamError, Sealer } from '@dreamnet/core';
import { loadSealer } from '../bootstrap.js';
import { openStore } from '../db/index.js';
import type { Services } from '../services.js';
import { writeBackup } from './backup.js';
import { rebuildMissing, type ImageExists, type RebuildPlan } from './rebuild.js';
import { applyStaged, checkKey, discardStaged, restoredKey, stageBackup } from './restore.js';

export const platformVersion = (s: Pick<Services, 'config'>) => s.config.version || '0.1.0';

export function backup(s: Services, includeKey: boolean) {
  return writeBackup({ db: s.store.db, dataDir: s.config.dataDir, platformVersion: platformVersion(s), includeKey });
}

export interface RestoreResult extends RebuildPlan { apps: string[]; schemaFrom: number; schemaTo: number; platformVersion: string; createdAt: string }

let restoring = false;

export async function restore(s: Services, input: Readable, o: { force: boolean; key?: string; imageExists: ImageExists }): Promise<RestoreResult> {
  if (restoring) throw new DreamError('RESTORE_REFUSED', 'A restore is already running.');
  const existing = s.store.apps.list().map((a) => a.name);
  if (existing.length > 0 && !o.force) throw new DreamError('RESTORE_REFUSED', `This install already has apps (${existing.slice(0, 5).join(', ')}). Restore into a fresh install, or pass --replace (CLI) / ?force=true to replace them.`);
  restoring = true;
  try {
    let staged;
    try { staged = await stageBackup(input, s.config.dataDir); } catch (e) { throw new DreamError('BACKUP_INVALID', (e as Error).message); }
    let key: Buffer;
    try { key = restoredKey(staged, s.config.dataDir, o.key); checkKey(staged, key); } catch (e) {
      discardStaged(staged);
      throw new DreamError('BACKUP_INVALID', (e as Error).message);
    }
    await s.reconciler.stop(); // its running pass ends before the database closes and is swapped
    s.store.db.close();
    try {
      applyStaged(staged, s.config.dataDir, key);
    } catch (e) {
      // Whatever is in place now (the old database and key unless the very last step failed) serves on.
      discardStaged(staged);
      Object.assign(s.store, openStore(path.join(s.config.dataDir, 'dream.db'), loadSealer(s.config.dataDir)));
      void s.reconciler.start().catch(() => undefined);
      throw e;
    }
    Object.assign(s.store, openStore(path.join(s.config.dataDir, 'dream.db'), new Sealer(key)));
    const apps = s.store.apps.list().map((a) => a.name);
    // Repositories point their hooks at this install's code, wherever it lives.
    for (const app of apps) s.git.init(app);
    const plan = await rebuildMissing(s, o.imageExists);
    void s.reconciler.start().catch((err) => s.log.error({ err }, 'reconcile after restore failed'));
    return { ...plan, apps, schemaFrom: staged.schemaFrom, schemaTo: staged.schemaTo, platformVersion: staged.manifest.platformVersion, createdAt: staged.manifest.createdAt };
  } finally {
    restoring = false;
  }
}
