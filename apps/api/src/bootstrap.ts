// First start: generate the encryption key and the admin token (files, mode 0600, in the data dir).
// There are no default secrets: a data dir without them gets fresh ones.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Sealer, ensureSecretFile, hashToken } from '@dreamnet/core';
import type { Store } from './db/index.js';

export function loadSealer(dataDir: string): Sealer {
  const { value } = ensureSecretFile(dataDir, 'encryption.key', () => crypto.randomBytes(32).toString('base64'));
  return new Sealer(Buffer.from(value, 'base64'));
}

/** Creates the admin token on first start; returns it only then (to print), else null. */
export function ensureAdminToken(store: Store, dataDir: string): string | null {
  const file = path.join(dataDir, 'admin-token');
  if (store.tokens.count() > 0) return null;
  const { token } = store.tokens.create('admin', 'admin');
  fs.writeFileSync(file, token + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  void hashToken;
  return token;
}
