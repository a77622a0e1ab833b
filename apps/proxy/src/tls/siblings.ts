// Certificates other processes on the data dir stored (the other workers, a sibling proxy): adopt()
// loads a name's stored pair when it is first wanted (a restart never re-orders a valid one);
// pickUp() serves a newer pair a sibling stored (it renewed, or got the name issued after failures
// this process showed too) — one stat per issuer (certsStamp), then one per name when it changed.
import type { Logger } from 'pino';
import type { Entry } from './entry.js';
import { renewAt, type Clock } from './renewal.js';
import type { StoredCert, TlsStorage } from './storage.js';
import { longestUsable, usablePair } from './stored.js';

export interface SiblingCertsOptions { storage: TlsStorage; clock: Clock; log?: Logger; onChange: () => void }

export class SiblingCerts {
  /** Per issuer, the storage's certsStamp() this process last looked at. */
  private readonly seen = new Map<string, string>();

  constructor(private readonly o: SiblingCertsOptions) {}

  /** Starts watching an issuer's certificates (call before reading them: a later store is seen). */
  watch(issuerId: string): void {
    if (!this.seen.has(issuerId)) this.seen.set(issuerId, this.o.storage.certsStamp(issuerId));
  }

  /** Serves the stored pair of a name just wanted; false (logged when unusable) = order one. */
  adopt(e: Entry): boolean {
    e.stamp = this.o.storage.certStamp(e.issuer.id, e.host);
    const unusable = (err: string) => this.o.log?.warn({ host: e.host, err }, 'stored certificate unusable; ordering a new one');
    const stored = this.o.storage.loadCert(e.issuer.id, e.host, unusable);
    const pair = stored && usablePair(stored, e.host, this.o.clock.now());
    if (typeof pair === 'string') unusable(pair);
    if (!pair || typeof pair === 'string') return this.servePrevious(e);
    Object.assign(e, { ctx: pair.ctx, meta: pair.meta, certPem: pair.certPem });
    e.state = this.o.clock.now() >= renewAt(pair.meta) ? 'renewing' : 'issued';
    return true;
  }

  /**
   * The name's issuer changed (DREAM_ACME_DIRECTORY switched to another CA or from staging to
   * production, `.dream` moved to or from the built-in CA): a still-valid certificate another issuer
   * stored is served until this one issues — without it every handshake failed for as long as the new
   * CA did not issue (a wrong EAB key: for ever). Only its context: the name is still ordered at once
   * as a new one (no meta), and nothing about it (ARI `replaces`) goes to the new CA. False: none.
   */
  private servePrevious(e: Entry): false {
    const prev = longestUsable(this.o.storage.loadOtherCerts(e.issuer.id, e.host), e.host, this.o.clock.now());
    if (!prev) return false;
    e.ctx = prev.ctx;
    this.o.log?.info({ host: e.host, issuer: prev.meta.issuer, notAfter: prev.meta.notAfter }, `serving the certificate ${prev.meta.issuer} issued until ${e.issuer.name} issues one`);
    return false;
  }

  /**
   * Serves the pair another process stored for `e` when it is newer than the one served: the name
   * is issued, so its failure, count and wait go. False when there is nothing newer.
   */
  adoptNewer(e: Entry): boolean {
    const stamp = this.o.storage.certStamp(e.issuer.id, e.host);
    if (stamp === e.stamp) return false;
    e.stamp = stamp;
    return this.serveNewer(e, this.o.storage.loadCert(e.issuer.id, e.host));
  }

  /** adoptNewer() with async reads, for a handshake waiting on the name (handshake-wait.ts). */
  async adoptNewerAsync(e: Entry): Promise<boolean> {
    const before = e.stamp;
    const stamp = await this.o.storage.certStampAsync(e.issuer.id, e.host);
    if (stamp === before) return false;
    const stored = await this.o.storage.loadCertAsync(e.issuer.id, e.host);
    if (e.stamp !== before) return false; // the synchronous path read it meanwhile
    e.stamp = stamp;
    return this.serveNewer(e, stored);
  }

  private serveNewer(e: Entry, stored: StoredCert | undefined): boolean {
    const pair = stored && usablePair(stored, e.host, this.o.clock.now());
    if (!pair || typeof pair === 'string') return false;
    if (e.meta && Date.parse(pair.meta.notAfter) <= Date.parse(e.meta.notAfter)) return false;
    const state = this.o.clock.now() >= renewAt(pair.meta) ? 'renewing' : 'issued';
    // ariCheckAt 0: the CA's advice is about each certificate; ask about this one.
    Object.assign(e, { ctx: pair.ctx, meta: pair.meta, certPem: pair.certPem, state, error: undefined, waiting: undefined, failures: 0, nextAttemptAt: 0, ariCheckAt: 0 });
    this.o.log?.info({ host: e.host, notAfter: pair.meta.notAfter }, 'certificate stored by another process on the data dir; serving it');
    this.o.onChange();
    return true;
  }

  /** Adopts what siblings stored for `entries`; true when something was adopted. */
  pickUp(entries: Iterable<Entry>): boolean {
    const byIssuer = new Map<string, Entry[]>();
    for (const e of entries) {
      const list = byIssuer.get(e.issuer.id);
      if (list) list.push(e); else byIssuer.set(e.issuer.id, [e]);
    }
    let adopted = false;
    for (const [id, list] of byIssuer) {
      try {
        const stamp = this.o.storage.certsStamp(id);
        if (stamp === this.seen.get(id)) continue;
        let all = true;
        // A name in the middle of its own attempt is looked at again at the next change or attempt.
        for (const e of list) { if (e.running) all = false; else if (this.adoptNewer(e)) adopted = true; }
        if (all) this.seen.set(id, stamp);
      } catch (err) {
        this.o.log?.warn({ err: (err as Error).message }, 'could not look for certificates stored by other processes');
      }
    }
    return adopted;
  }
}
