// Reads a backup archive into a staging dir inside the data dir, verifying every checksum against the
// manifest; migrates the staged database to this version's schema; then moves it all into place.
// Nothing in the live data dir changes until every check passed.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import tar from 'tar-stream';
import { Sealer } from '@dreamnet/core';
import { openDb } from '../db/index.js';
import { MIGRATIONS } from '../db/migrations.js';
import { DB_ENTRY, FILES_PREFIX, checkManifest, safeRelative, sha256, type Manifest } from './manifest.js';

export interface Staged { dir: string; manifest: Manifest; schemaFrom: number; schemaTo: number }

const MAX_ENTRY = 2 * 1024 ** 3;

/** Extracts and verifies an archive into `<dataDir>/.restore-*`. Throws (and cleans up) on any mismatch. */
export async function stageBackup(input: Readable, dataDir: string, migrations: string[] = MIGRATIONS): Promise<Staged> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const dir = fs.mkdtempSync(path.join(dataDir, '.restore-'));
  try {
    let manifest: Manifest | undefined;
    const seen = new Map<string, string>();
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = []; let size = 0;
      stream.on('data', (c: unknown) => { if (!Buffer.isBuffer(c)) return; size += c.length; if (size > MAX_ENTRY) stream.destroy(new Error('backup entry too large')); else chunks.push(c); });
      stream.on('error', (e) => next(e));
      stream.on('end', () => {
        try {
          const data = Buffer.concat(chunks);
          if (header.type !== 'file') throw new Error(`The backup holds a ${header.type} entry (${header.name}); only regular files are allowed.`);
          if (header.name === 'manifest.json') {
            if (manifest) throw new Error('The backup has two manifests.');
            manifest = checkManifest(JSON.parse(data.toString('utf8')));
          } else {
            if (!manifest) throw new Error('The backup does not start with manifest.json.');
            const want = manifest.files.find((f) => f.path === header.name);
            if (!want || !safeRelative(header.name)) throw new Error(`The backup holds ${JSON.stringify(header.name)}, which its manifest does not list.`);
            const sum = sha256(data);
            if (sum !== want.sha256 || data.length !== want.size) throw new Error(`Checksum mismatch for ${header.name}: the backup is damaged.`);
            const dest = path.join(dir, header.name);
            fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
            fs.writeFileSync(dest, data, { mode: want.mode & 0o777 || 0o600 });
            seen.set(header.name, sum);
          }
          next();
        } catch (e) { next(e as Error); }
      });
    });
    await pipeline(input, zlib.createGunzip(), extract);
    if (!manifest) throw new Error('The backup is empty.');
    const missing = manifest.files.filter((f) => !seen.has(f.path)).map((f) => f.path);
    if (missing.length) throw new Error(`The backup is truncated: missing ${missing.slice(0, 3).join(', ')}.`);
    // Restoring into a newer version migrates the snapshot now, so a failure aborts before any swap.
    const db = openDb(path.join(dir, DB_ENTRY), migrations);
    const schemaTo = db.pragma('user_version', { simple: true }) as number;
    db.close();
    return { dir, manifest, schemaFrom: manifest.schemaVersion, schemaTo };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The encryption key the restored data needs: the backup's own, else the one given or already here. */
export function restoredKey(staged: Staged, dataDir: string, given?: string): Buffer {
  const inBackup = path.join(staged.dir, FILES_PREFIX, 'encryption.key');
  if (fs.existsSync(inBackup)) return Buffer.from(fs.readFileSync(inBackup, 'utf8').trim(), 'base64');
  if (given) return Buffer.from(given.trim(), 'base64');
  const here = path.join(dataDir, 'encryption.key');
  if (fs.existsSync(here)) return Buffer.from(fs.readFileSync(here, 'utf8').trim(), 'base64');
  throw new Error('This backup was made without the encryption key; supply the key it was made with.');
}

/** Proves `key` opens the sealed values in the staged database (so secrets are not silently lost). */
export function checkKey(staged: Staged, key: Buffer): void {
  const sealer = new Sealer(key);
  const db = new Database(path.join(staged.dir, DB_ENTRY), { readonly: true });
  try {
    const row = db.prepare('SELECT config_sealed AS v FROM releases LIMIT 1').get() as { v: string } | undefined;
    if (row) sealer.open(row.v);
  } catch {
    throw new Error('The encryption key does not open this backup\'s secrets: use the key the backup was made with (`encryption.key` of the old data dir).');
  } finally { db.close(); }
}

/** rename(2), or copy + unlink where `dest` is on another filesystem (e.g. the tls/ volume in compose). */
function moveFile(src: string, dest: string): void {
  try { fs.renameSync(src, dest); } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    fs.copyFileSync(src, dest);
    fs.unlinkSync(src);
  }
}

/**
 * Moves the staged files over the data dir (the caller has closed the live database). Files and the
 * key go first, the database last: a failure part-way leaves the old database with its own key.
 */
export function applyStaged(staged: Staged, dataDir: string, key: Buffer): void {
  const root = path.join(staged.dir, FILES_PREFIX);
  for (const d of staged.manifest.dirs) fs.mkdirSync(path.join(dataDir, d.slice(FILES_PREFIX.length)), { recursive: true, mode: 0o700 });
  for (const f of staged.manifest.files) {
    if (!f.path.startsWith(FILES_PREFIX)) continue;
    const rel = f.path.slice(FILES_PREFIX.length);
    if (rel === 'encryption.key') continue; // written below, with the key this restore verified
    const dest = path.join(dataDir, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
    fs.rmSync(dest, { force: true, recursive: true });
    moveFile(path.join(root, rel), dest);
  }
  const keyFile = path.join(dataDir, 'encryption.key');
  fs.writeFileSync(keyFile, key.toString('base64') + '\n', { mode: 0o600 });
  fs.chmodSync(keyFile, 0o600);
  for (const suffix of ['-wal', '-shm']) fs.rmSync(path.join(dataDir, `dream.db${suffix}`), { force: true });
  fs.renameSync(path.join(staged.dir, DB_ENTRY), path.join(dataDir, 'dream.db'));
  fs.rmSync(staged.dir, { recursive: true, force: true });
}

export function discardStaged(staged: Staged): void {
  fs.rmSync(staged.dir, { recursive: true, force: true });
}
