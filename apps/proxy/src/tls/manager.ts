// CertManager implements CertificateSource: the listeners ask it for contexts and challenge answers;
// ensure(hosts) tells it what to serve. It loads certificates from storage (a restart never
// re-orders a valid one), orders what is missing in the background (order.ts: one order per name at a
// time across processes, per-account throttle, backoff on failure kept on disk) and renews when due.
import tls from 'node:tls';
import type { Logger } from 'pino';
import { BackoffStore } from './backoff.js';
import { CertSweep } from './cert-sweep.js';
import type { Http01Solver } from './challenges/http01.js';
import { statusOf, type Entry } from './entry.js';
import type { Issuer } from './issuer.js';
import { DEFAULT_BACKOFF, renewAt, systemClock, type BackoffPolicy, type Clock } from './renewal.js';
import { CertOrders } from './order.js';
import { OrderSlots } from './order-slots.js';
import type { TlsStorage } from './storage.js';
import { HandshakeWaits } from './handshake-wait.js';
import { SiblingCerts } from './siblings.js';
import { serialOf } from './stored.js';
import type { CertificateSource, CertStatus } from './types.js';

export interface CertManagerOptions {
  storage: TlsStorage;
  /** Which issuer serves a name; undefined = never ordered (IP literals, localhost…). */
  issuerFor(host: string): Issuer | undefined;
  http01?: Http01Solver;
  clock?: Clock;
  log?: Logger;
  backoff?: BackoffPolicy;
  /** Orders per ACME account per window (default 30 per hour), counted for every process on the data dir. */
  throttle?: { max: number; windowMs: number };
  /** How often due work is looked for (default 60 s; renewals are days apart). */
  tickMs?: number;
  /** An order lock not refreshed for this long belongs to a crashed process (default 2 min; holders refresh it). */
  lockStaleMs?: number;
  /** How often to look whether another process on the data dir stored a certificate (default 5 s; one stat per issuer). */
  pickUpMs?: number;
  /** Called (synchronously) whenever some host's status changes. */
  onChange?: () => void;
}

/** The wildcard name that would cover `name` ('' when it has no parent). */
const wildcardAbove = (name: string) => { const dot = name.indexOf('.'); return dot > 0 ? `*.${name.slice(dot + 1)}` : ''; };

export class CertManager implements CertificateSource {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly backoffs: BackoffStore;
  private readonly sweeper: CertSweep;
  private readonly timer: NodeJS.Timeout;
  private readonly watch: NodeJS.Timeout;
  private readonly stored: SiblingCerts;
  private readonly waits: HandshakeWaits;
  private closed = false;
  /** tick() is looking for stored certificates itself (pickUpStored need not start another). */
  private ticking = false;
  private readonly ordering: CertOrders;
  /** A few built-in CA orders at a time (order-slots.ts: all at once they held requests for seconds). */
  private readonly slots = new OrderSlots();

  constructor(private readonly o: CertManagerOptions) {
    this.clock = o.clock ?? systemClock;
    this.backoffs = new BackoffStore(o.storage, o.log);
    this.sweeper = new CertSweep(o.storage, o.log);
    this.stored = new SiblingCerts({ storage: o.storage, clock: this.clock, log: o.log, onChange: () => o.onChange?.() });
    this.ordering = new CertOrders({
      storage: o.storage, stored: this.stored, backoffs: this.backoffs, clock: this.clock, log: o.log, backoff: o.backoff,
      throttle: o.throttle, lockStaleMs: o.lockStaleMs ?? 120_000, onChange: o.onChange, retry: () => void this.tick(),
    });
    this.waits = new HandshakeWaits({ storage: o.storage, stored: this.stored, entryFor: (n) => this.entryFor(n), lockStaleMs: o.lockStaleMs ?? 120_000, hurry: (h) => this.slots.hurry(h) });
    this.timer = setInterval(() => void this.tick(), o.tickMs ?? 60_000);
    this.timer.unref();
    this.watch = setInterval(() => this.pickUpStored(), o.pickUpMs ?? 5000);
    this.watch.unref();
  }

  /** Orders started by this process (tests and metrics). */
  get orders(): number { return this.ordering.count; }

  secureContext(servername: string): tls.SecureContext | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    return this.entries.get(name)?.ctx ?? this.entries.get(wildcardAbove(name))?.ctx;
  }

  /** A served name's certificate that another process is issuing or just stored, waited for (handshake-wait.ts); undefined = fail now. */
  secureContextSoon(servername: string): Promise<tls.SecureContext | undefined> | undefined {
    return this.waits.wait(servername.toLowerCase().replace(/\.$/, ''));
  }

  private entryFor(name: string): Entry | undefined { return this.entries.get(name) ?? this.entries.get(wildcardAbove(name)); }

  hasCertificate(host: string): boolean { return this.secureContext(host) !== undefined; }

  httpChallenge(token: string): string | undefined { return this.o.http01?.answer(token); }

  /** The hosts ensure() was last given that this manager will serve (the DNS answers for these). */
  hosts(): string[] { return [...this.entries.keys()]; }

  /** Whether ensure() was last given `host` (the DNS answers it): a look-up, no copy of every name. */
  serves(host: string): boolean { return this.entries.has(host); }

  /** Whether a served name lies below `name` (an empty non-terminal in DNS), without copying them. */
  servesBelow(name: string): boolean {
    const suffix = `.${name}`;
    for (const h of this.entries.keys()) if (h.endsWith(suffix)) return true;
    return false;
  }

  ensure(hosts: string[]): void {
    const want = new Set(hosts.map((h) => h.toLowerCase().replace(/\.$/, '')));
    for (const h of this.entries.keys()) if (!want.has(h)) this.entries.delete(h);
    for (const host of want) {
      if (this.entries.has(host)) continue;
      const issuer = this.o.issuerFor(host);
      if (!issuer) continue;
      const e: Entry = { host, issuer, state: 'pending', failures: 0, nextAttemptAt: 0, ariCheckAt: 0 };
      this.entries.set(host, e);
      this.stored.watch(issuer.id); // before reading: a later store is seen
      this.stored.adopt(e);
      this.backoffs.restore(e, this.clock.now()); // a restart must not ask the CA again too soon
    }
    this.o.onChange?.();
    void this.tick();
  }

  status(): CertStatus[] { return [...this.entries.values()].map(statusOf); }

  /** Starts whatever is due now; resolves when those attempts finish (tests await it). */
  async tick(): Promise<void> {
    if (this.closed) return;
    const now = this.clock.now();
    // Backoff files of names no longer served go once no process can be relying on them (at most hourly).
    this.backoffs.sweep(this.entries.values(), now, (this.o.backoff ?? DEFAULT_BACKOFF).maxMs, this.o.lockStaleMs ?? 120_000);
    // So do stored certificates of names no longer served, and other CAs' of served ones, a day after they expired (cert-sweep.ts).
    this.sweeper.sweep(this.entries.values(), now, this.o.lockStaleMs ?? 120_000);
    this.ticking = true;
    try { this.pickUpStored(); } finally { this.ticking = false; }
    const started: Promise<void>[] = [];
    for (const e of this.entries.values()) {
      if (e.running) { started.push(e.running); continue; }
      const ari = Boolean(e.certPem && e.issuer.renewalInfo && now >= e.ariCheckAt);
      if (!ari && !this.due(e, now)) continue;
      e.running = this.slots.run(e.issuer, async () => {
        if (ari) await this.refreshAri(e); // its advice may make the certificate due right now
        if (this.due(e, this.clock.now())) await this.ordering.attempt(e);
      }, e.host).finally(() => { e.running = undefined; });
      started.push(e.running);
    }
    await Promise.all(started);
  }

  /**
   * Stops looking for work and waits for orders in flight, at most `graceMs`: an order about to store
   * its certificate gets to, but a slow CA must not hold up a stopping proxy (SIGTERM, a worker whose
   * primary died). What is cut short leaves a lock naming a process that is gone, broken at once by
   * the next one (lock.ts).
   */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    this.slots.close();
    this.waits.close();
    clearInterval(this.timer);
    clearInterval(this.watch);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => { timer = setTimeout(r, graceMs); });
    await Promise.race([Promise.all([...this.entries.values()].map((e) => e.running).filter(Boolean)), grace]);
    clearTimeout(timer);
  }

  private due(e: Entry, now: number): boolean {
    return (!e.meta || now >= renewAt(e.meta)) && now >= e.nextAttemptAt;
  }

  /** Looks for certificates siblings stored (siblings.ts); the CA's advice about adopted ones now, not at the next tick. */
  private pickUpStored(): void {
    if (this.closed) return;
    if (this.stored.pickUp(this.entries.values()) && !this.ticking) void this.tick();
  }

  /** Asks the CA when to renew (ARI); a failure keeps the last advice and asks again in an hour. */
  private async refreshAri(e: Entry): Promise<void> {
    const advice = await e.issuer.renewalInfo!(e.certPem!).catch(() => null);
    // No ARI at this CA: look again in 6 h (it may start offering it); unreachable: in 1 h.
    e.ariCheckAt = this.clock.now() + (advice ? advice.retryAfterMs : advice === null ? 3600_000 : 6 * 3600_000);
    if (!advice || !e.meta) return;
    e.meta = { ...e.meta, ariRenewAt: advice.renewAt.toISOString(), ariSerial: serialOf(e.certPem!) };
    if (this.clock.now() >= renewAt(e.meta) && e.state === 'issued') e.state = 'renewing';
    // Kept in memory regardless; a write failure must not reject tick() (nobody awaits the timer's).
    try { this.o.storage.saveMeta(e.issuer.id, e.meta); } catch (err) { this.o.log?.warn({ host: e.host, err: (err as Error).message }, 'renewal information not stored'); }
  }
}
