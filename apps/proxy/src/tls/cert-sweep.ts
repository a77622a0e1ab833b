// Stored certificates of names this process no longer serves. Without a sweep every name a proxy
// ever served (an app deleted, a custom domain dropped, a directory switched) kept its pair (private
// key included) under certs/<issuer>/<host>/ for ever. Like certmagic's storage cleaning, a pair goes
// once its certificate expired more than a day ago; a pair that does not parse once it is that old.
// So does a served name's pair from a CA that no longer serves it (the name moved from Let's Encrypt
// or Pebble to the built-in CA, DREAM_ACME_DIRECTORY switched): before, only unserved names were
// swept, so it stayed for ever. Never the serving CA's pair, nor one being served (siblings.ts serves
// another CA's pair until the name's own CA issues).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Entry } from './entry.js';
import { TlsStorage } from './storage.js';

/** How long after expiry a pair is kept (certmagic: 24 h): a sibling still renewing it has stored a new one long before. */
export const EXPIRED_GRACE_MS = 24 * 3600_000;
/** How often sweep() looks. */
const SWEEP_EVERY_MS = 3600_000;

/** Why a stored pair may go: when it expired (and which CA's it was), or why it cannot be read. */
type Gone = { notAfter: string; issuer?: string } | { damaged: string };

/** A name this process serves: by which issuer, and whether from its own pair (certPem) or another CA's. */
export type ServedName = Pick<Entry, 'host' | 'issuer' | 'ctx' | 'certPem'>;

export class CertSweep {
  private lastSweep = -Infinity;

  constructor(private readonly storage: TlsStorage, private readonly log?: Logger, private readonly graceMs = EXPIRED_GRACE_MS) {}

  /**
   * Removes the pairs, of every issuer, of names not in `served` (this process's names), and of
   * served names the pairs of issuers other than the serving one, that expired more than the grace
   * ago; at most once an hour. A name served from another issuer's pair (its own has not issued yet:
   * siblings.ts) keeps every pair. A sibling process on the data dir may serve such a name: it
   * renews it long before it expires, under the name's order lock, so the pair is checked again and
   * removed under that lock — a renewal in progress is never raced, and what it stored is unexpired.
   */
  sweep(served: Iterable<ServedName>, now: number, lockStaleMs: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    // Per served name, the issuer folder whose pair stays; null = every one stays.
    const keep = new Map<string, string | null>();
    for (const e of served) keep.set(e.host, e.ctx && !e.certPem ? null : TlsStorage.issuerId(e.issuer.id));
    let issuers: string[];
    try { issuers = this.storage.list('certs'); } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'stored certificates of names no longer served not swept');
      return;
    }
    for (const issuer of issuers) {
      if (!this.isDir(path.join('certs', issuer))) continue; // certs/<issuer>/.changed is a file
      for (const name of this.storage.list(path.join('certs', issuer))) {
        const host = name.replace(/^_wildcard_\./, '*.');
        const serving = keep.get(host);
        if (serving === null || serving === issuer) continue;
        const whose = serving === undefined ? 'a name no longer served' : 'from a CA that no longer serves it';
        // One name that cannot be looked at (permissions, a disk error) must not keep the others.
        try { this.sweepOne(host, path.join('certs', issuer, name), whose, now, lockStaleMs); } catch (err) {
          this.log?.warn({ host, err: (err as Error).message }, `stored certificate of ${host}, ${whose}, not swept`);
        }
      }
    }
  }

  private sweepOne(host: string, rel: string, whose: string, now: number, lockStaleMs: number): void {
    if (!this.isDir(rel) || !this.gone(rel, now)) return;
    const release = this.storage.tryLock(host, lockStaleMs);
    if (!release) return; // being ordered right now: the next sweep looks again
    try {
      const why = this.gone(rel, now);
      if (!why) return;
      const dir = this.storage.file(rel);
      fs.rmSync(dir, { recursive: true, force: true });
      if ('notAfter' in why) this.log?.info({ host, notAfter: why.notAfter, issuer: why.issuer, dir }, `stored certificate of ${host}${why.issuer ? ` (${why.issuer})` : ''}, ${whose}, removed: it expired ${why.notAfter}`);
      else this.log?.info({ host, err: why.damaged, dir }, `damaged stored certificate of ${host}, ${whose}, removed: ${why.damaged}`);
    } finally { release(); }
  }

  private isDir(rel: string): boolean {
    try { return fs.statSync(this.storage.file(rel)).isDirectory(); } catch { return false; }
  }

  /**
   * Whether the pair in `rel` may go: its certificate expired more than the grace ago, or none in it
   * can be read and nothing in it was written within the grace (a write in progress, or a pair a
   * sibling is about to replace, is newer than that). pair.json, else the older cert.pem.
   */
  private gone(rel: string, now: number): Gone | undefined {
    let damaged = 'no certificate in it';
    for (const f of ['pair.json', 'cert.pem']) {
      const text = this.storage.read(path.join(rel, f));
      if (text === undefined) continue;
      try {
        const pair = f === 'pair.json' ? JSON.parse(text) as { certPem?: unknown; meta?: { issuer?: unknown } } : { certPem: text };
        if (typeof pair.certPem !== 'string') throw new Error('no certPem in it');
        const notAfter = new Date(new crypto.X509Certificate(pair.certPem).validTo);
        const issuer = typeof pair.meta?.issuer === 'string' ? pair.meta.issuer : undefined;
        return now - notAfter.getTime() > this.graceMs ? { notAfter: notAfter.toISOString(), issuer } : undefined;
      } catch (e) {
        damaged = `${f}: ${(e as Error).message}`;
        break;
      }
    }
    return now - this.newestWrite(rel) > this.graceMs ? { damaged } : undefined;
  }

  /** The latest mtime in the folder (its own included: a file created and removed there). */
  private newestWrite(rel: string): number {
    const dir = this.storage.file(rel);
    let newest = fs.statSync(dir).mtimeMs;
    for (const f of fs.readdirSync(dir)) {
      try { newest = Math.max(newest, fs.statSync(path.join(dir, f)).mtimeMs); } catch { /* removed meanwhile */ }
    }
    return newest;
  }
}
