// Writes one backup archive (tar.gz): manifest.json, a consistent SQLite snapshot taken with the
// online backup API (safe while deploys write), and every other file of the data dir — keys,
// admin token, git repositories, certificates, account keys, the CA — optionally without the
// encryption key.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import type { Db } from '../db/index.js';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, DB_ENTRY, FILES_PREFIX, excluded, sha256, type Manifest, type ManifestFile } from './manifest.js';

export interface BackupOptions { db: Db; dataDir: string; platformVersion: string; includeKey: boolean }

/** Regular files and directories under `dir` (relative, sorted); symlinks, sockets and the like are skipped. */
export function listFiles(dir: string, includeKey: boolean): { files: string[]; dirs: string[] } {
  const files: string[] = []; const dirs: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (excluded(r, includeKey)) continue;
      if (e.isDirectory()) { dirs.push(r); walk(r); } else if (e.isFile()) files.push(r);
    }
  };
  walk('');
  return { files: files.sort(), dirs: dirs.sort() };
}

/** Snapshots the database and packs the archive into a temp file inside the data dir; returns it. */
export async function writeBackup(o: BackupOptions): Promise<{ file: string; manifest: Manifest }> {
  const work = fs.mkdtempSync(path.join(o.dataDir, '.backup-'));
  try {
    const snap = path.join(work, 'dream.db');
    await o.db.backup(snap);
    const entries: { name: string; data: Buffer; mode: number }[] = [];
    const snapData = fs.readFileSync(snap);
    entries.push({ name: DB_ENTRY, data: snapData, mode: 0o600 });
    const listed = listFiles(o.dataDir, o.includeKey);
    for (const rel of listed.files) {
      const abs = path.join(o.dataDir, rel);
      let data: Buffer;
      try { data = fs.readFileSync(abs); } catch { continue; } // removed while we walked
      entries.push({ name: FILES_PREFIX + rel, data, mode: fs.statSync(abs).mode & 0o777 });
    }
    const files: ManifestFile[] = entries.map((e) => ({ path: e.name, size: e.data.length, sha256: sha256(e.data), mode: e.mode }));
    const manifest: Manifest = {
      format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, createdAt: new Date().toISOString(),
      platformVersion: o.platformVersion, schemaVersion: schemaOf(snap, o.db), includesEncryptionKey: o.includeKey, files, dirs: listed.dirs.map((d) => FILES_PREFIX + d),
    };
    const pack = tar.pack();
    const file = path.join(work, 'backup.tar.gz');
    const done = pipeline(pack, zlib.createGzip(), fs.createWriteStream(file, { mode: 0o600 }));
    pack.entry({ name: 'manifest.json', mode: 0o600 }, JSON.stringify(manifest, null, 2));
    for (const e of entries) pack.entry({ name: e.name, mode: e.mode }, e.data);
    pack.finalize();
    await done;
    fs.rmSync(snap);
    return { file, manifest };
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/** Removes what writeBackup left behind once the archive was sent. */
export function discardBackup(file: string): void {
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

function schemaOf(_snap: string, db: Db): number {
  // The snapshot is a page-for-page copy, so its user_version is the live one.
  return db.pragma('user_version', { simple: true }) as number;
}
