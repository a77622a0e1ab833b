// Upgrade pre-flight, run by scripts/install.sh with the NEW image before compose replaces the api:
// migrates a snapshot of the live database (SQLite online backup) in a temp dir. If a migration
// fails, install.sh stops and the running version keeps running on an untouched database.
//   node --import tsx scripts/selfhost-preflight.ts [dataDir]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDb } from '../apps/api/src/db/open.js';
import { MIGRATIONS } from '../apps/api/src/db/migrations.js';

const dataDir = process.argv[2] ?? '/var/lib/dream';
const live = path.join(dataDir, 'dream.db');
if (!fs.existsSync(live)) {
  console.log('preflight: no database yet (first install); nothing to migrate.');
  process.exit(0);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-preflight-'));
try {
  const src = new Database(live, { readonly: true, fileMustExist: true });
  const from = src.pragma('user_version', { simple: true }) as number;
  await src.backup(path.join(dir, 'dream.db'));
  src.close();
  const db = openDb(path.join(dir, 'dream.db'), MIGRATIONS);
  const to = db.pragma('user_version', { simple: true }) as number;
  db.close();
  console.log(`preflight: schema v${from} → v${to} migrates cleanly.`);
} catch (e) {
  console.error(`preflight: the new version cannot migrate this database: ${(e as Error).message}`);
  process.exit(1);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
