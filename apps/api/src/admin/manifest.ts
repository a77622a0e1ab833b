// The manifest at the head of every backup archive: what made it, which schema the database snapshot
// has, whether the encryption key is inside, and the size and SHA-256 of every file. Pure code.
import crypto from 'node:crypto';

export const BACKUP_FORMAT = 'dreamnet-backup';
export const BACKUP_FORMAT_VERSION = 1;
/** Archive paths: the database snapshot and data-dir files live under these prefixes. */
export const DB_ENTRY = 'db/dream.db';
export const FILES_PREFIX = 'files/';

export interface ManifestFile { path: string; size: number; sha256: string; mode: number }

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  createdAt: string;
  platformVersion: string;
  schemaVersion: number;
  includesEncryptionKey: boolean;
  files: ManifestFile[];
  /** Directories (under files/), empty ones included: a bare git repository needs its empty refs/. */
  dirs: string[];
}

export const sha256 = (buf: Buffer) => crypto.createHash('sha256').update(buf).digest('hex');

/** Data-dir entries never backed up: the live database (a snapshot goes in instead), caches, logs, temp. */
export function excluded(rel: string, includeKey: boolean): boolean {
  const top = rel.split('/')[0]!;
  if (/^dream\.db(-wal|-shm|-journal)?$/.test(rel)) return true;
  // logs/ is the per-app log history: large, and not needed to bring apps back.
  if (top === 'proxy' || top === 'logs' || top.startsWith('.restore-') || top.startsWith('.backup-') || top === 'tmp') return true;
  // tls/locks/ holds the certificate manager's transient cross-process locks.
  if (rel === 'tls/locks' || rel.startsWith('tls/locks/')) return true;
  return !includeKey && rel === 'encryption.key';
}

/** A safe relative archive path: no absolute paths, no `..`, no empty segments. */
export function safeRelative(p: string): boolean {
  if (!p || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** Throws a message an operator can act on when the manifest is not one we can restore. */
export function checkManifest(m: unknown): Manifest {
  const x = m as Partial<Manifest> | null;
  if (!x || x.format !== BACKUP_FORMAT) throw new Error('This is not a DreamNet backup (no dreamnet-backup manifest.json at its start).');
  if (x.formatVersion !== BACKUP_FORMAT_VERSION) throw new Error(`This backup has format ${x.formatVersion}; this platform reads format ${BACKUP_FORMAT_VERSION}. Restore it with a matching version.`);
  if (!Array.isArray(x.files) || typeof x.schemaVersion !== 'number') throw new Error('The backup manifest is incomplete.');
  for (const f of x.files) {
    if (!safeRelative(f.path) || (f.path !== DB_ENTRY && !f.path.startsWith(FILES_PREFIX))) throw new Error(`The backup names an unsafe path: ${JSON.stringify(f.path)}.`);
  }
  if (!Array.isArray(x.dirs) || !x.dirs.every((d) => typeof d === 'string' && safeRelative(d) && d.startsWith(FILES_PREFIX))) throw new Error('The backup manifest names an unsafe directory.');
  if (!x.files.some((f) => f.path === DB_ENTRY)) throw new Error('The backup has no database snapshot.');
  return x as Manifest;
}
