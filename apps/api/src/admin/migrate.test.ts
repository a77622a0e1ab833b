// Upgrades run migrations once, forward-only; a failing one must leave the database at its old
// version and the running (old) api serving.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@dreamnet/core';
import { startApi } from '../main.js';
import { openDb } from '../db/index.js';
import { MIGRATIONS } from '../db/migrations.js';

describe('migrations during an upgrade', () => {
  it('a failing migration leaves user_version and schema unchanged and the old api serving', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-migrate-'));
    const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_TARGET: 'fake', DREAM_LOG_LEVEL: 'silent', DREAM_API_PORT: '0', DREAM_RECONCILE_INTERVAL_MS: '60000' });
    const old = await startApi(config);
    try {
      const port = (old.app.server.address() as { port: number }).port;
      const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
      const list = () => fetch(`http://127.0.0.1:${port}/v1/apps`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
      expect(await list()).toBe(200);
      const file = path.join(dataDir, 'dream.db');
      const broken = [...MIGRATIONS, 'CREATE TABLE upgrade_probe (x INTEGER); INSERT INTO no_such_table VALUES (1);'];
      // The "new version" opens the same file while the old one runs, and fails.
      expect(() => openDb(file, broken)).toThrow(/no_such_table/);
      const peek = new Database(file, { readonly: true });
      expect(peek.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(peek.prepare("SELECT name FROM sqlite_master WHERE name = 'upgrade_probe'").get()).toBeUndefined();
      peek.close();
      expect(await list()).toBe(200);
      // Forward-only: a platform older than the schema refuses to start instead of guessing.
      const newer = openDb(file, [...MIGRATIONS, 'CREATE TABLE upgrade_probe (x INTEGER);']);
      newer.close();
      expect(() => openDb(file, MIGRATIONS)).toThrow(/newer than this platform/);
    } finally {
      await old.close();
    }
  });
});
