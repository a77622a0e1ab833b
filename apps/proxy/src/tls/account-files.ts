// Where an ACME account's files live: one account per directory *and* external account binding key
// id, as certmagic and lego keep them. With one per directory only, a changed DREAM_ACME_EAB_KID kept
// the account registered with the first key id — bound to that external account, so a CA that bills
// or authorises per external account (ZeroSSL, Google) charged the old one, or refused every order
// once its key was revoked. Accounts of other key ids are kept: switching back reuses them.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { TlsStorage } from './storage.js';

const KEY = 'account.key';
const JSON_FILE = 'account.json';
const EAB_PREFIX = 'eab-';

/**
 * Which account orders, as a relative path safe on disk: `<directory id>` without EAB,
 * `<directory id>/eab-<key id, made safe>-<hash>` with it. Its files live under `accounts/<this>`
 * (accountDir()), its order throttle in `throttle/<this>.json` (throttle.ts): the CA limits orders per
 * account, so two key ids on one directory are two limits.
 */
export function accountId(directoryUrl: string, eabKid?: string): string {
  const base = TlsStorage.issuerId(directoryUrl);
  if (eabKid === undefined) return base;
  const safe = eabKid.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return path.posix.join(base, `${EAB_PREFIX}${safe}-${crypto.createHash('sha256').update(eabKid).digest('hex').slice(0, 10)}`);
}

/**
 * `accounts/<directory id>` without EAB (what every earlier version used, so a data dir's account
 * stays), `accounts/<directory id>/eab-<key id, made safe>-<hash>` per key id (the hash keeps two
 * ids that differ only in unsafe characters apart).
 */
export function accountDir(directoryUrl: string, eabKid?: string): string {
  return path.posix.join('accounts', accountId(directoryUrl, eabKid));
}

/**
 * Earlier versions kept one account per directory whatever the key id, and did not record which
 * one it was registered with. When a key id is set and has no account of its own yet, that account
 * is taken as this key id's if no key id has one yet (the first start after the upgrade): it was
 * registered with the binding set then, which is this one unless the id changed before the upgrade.
 * Registering anew instead would fail at CAs whose EAB keys register one account only (Google).
 * Copied, not moved: with EAB unset, the directory's account stays where it was. Call under the
 * account lock.
 */
export function claimEarlierAccount(storage: TlsStorage, directoryUrl: string, eabKid: string, log?: Logger): void {
  const base = accountDir(directoryUrl);
  const own = accountDir(directoryUrl, eabKid);
  if (storage.read(path.posix.join(own, KEY)) !== undefined) return;
  if (storage.list(base).some((f) => f.startsWith(EAB_PREFIX))) return; // key ids are told apart here already
  const key = storage.read(path.posix.join(base, KEY));
  const json = storage.read(path.posix.join(base, JSON_FILE));
  if (key === undefined || json === undefined) return;
  let saved: Record<string, unknown>;
  try { saved = JSON.parse(json) as Record<string, unknown>; } catch { return; } // damaged: registered anew
  // Recorded by this version (null = registered without EAB): not an earlier version's account.
  if ('eabKid' in saved || typeof saved.url !== 'string') return;
  storage.write(path.posix.join(own, KEY), key, true);
  storage.write(path.posix.join(own, JSON_FILE), JSON.stringify({ ...saved, eabKid }, null, 2));
  log?.info({ directory: directoryUrl, account: saved.url, eabKid },
    `the ACME account at ${directoryUrl} stored before accounts were kept per EAB key id is taken as ${eabKid}'s (a new key id gets an account of its own)`);
}
