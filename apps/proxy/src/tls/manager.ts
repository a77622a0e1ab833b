// CertManager implements CertificateSource: the listeners ask it for contexts and challenge answers;
// ensure(hosts) tells it what to serve. It loads certificates from storage (a restart never
// re-orders a valid one), orders what is missing in the background (order.ts: one order per name at a
// time across processes, per-account throttle, backoff on failure kept on disk) and renews when due.
import tls from 'node:tls';
import type { Logger } from 'pino';
import { refreshAri } from './ari-refresh.js';
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
import { normal, ServedNames } from './served-names.js';
import { readStored } from './stored-loader.js';
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

export class CertManager implements CertificateSource {
  /** The names served, and which still wait for their stored pair to be read (served-names.ts). */
  private readonly names: ServedNames;
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
    this.names = new ServedNames({
      issuerFor: o.issuerFor, watch: (id) => this.stored.watch(id),
      load: (e) => readStored(e, this.stored, this.backoffs, this.clock.now(), o.log), read: (es, done) => this.afterRead(es, done),
    });
    this.timer = setInterval(() => void this.tick(), o.tickMs ?? 60_000);
    this.timer.unref();
    this.watch = setInterval(() => this.pickUpStored(), o.pickUpMs ?? 5000);
    this.watch.unref();
  }

  /** Orders started by this process (tests and metrics). */
  get orders(): number { return this.ordering.count; }

  secureContext(servername: string): tls.SecureContext | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    return this.names.exact(name)?.ctx ?? this.names.wildcard(name)?.ctx;
  }

  /** A served name's certificate that another process is issuing or just stored, waited for (handshake-wait.ts); undefined = fail now. */
  secureContextSoon(servername: string): Promise<tls.SecureContext | undefined> | undefined {
    return this.waits.wait(servername.toLowerCase().replace(/\.$/, ''));
  }

  private entryFor(name: string): Entry | undefined { return this.names.exact(name) ?? this.names.wildcard(name); }

  hasCertificate(host: string): boolean { return this.secureContext(host) !== undefined; }

  httpChallenge(token: string): string | undefined { return this.o.http01?.answer(token); }

  /** The hosts ensure() was last given that this manager will serve (the DNS answers for these). */
  hosts(): string[] { return this.names.hosts(); }

  /** Whether ensure() was last given `host` (the DNS answers it): a look-up, no copy of every name. */
  serves(host: string): boolean { return this.names.serves(host); }

  /** Whether a served name lies below `name` (an empty non-terminal in DNS), without copying them. */
  servesBelow(name: string): boolean { return this.names.servesBelow(name); }

  /**
   * Serves exactly `hosts` from now on. New names are read from storage in the background (stored-
   * loader.ts) and ordered once read if nothing usable is stored; names already served cost nothing.
   */
  ensure(hosts: string[]): void {
    const want = new Set(hosts.map(normal));
    this.change(want, this.names.hosts().filter((h) => !want.has(h)));
  }

  /** ensure() given only the names that came and went since the last call: work in proportion to them. */
  change(added: Iterable<string>, removed: Iterable<string>): void {
    // New names are reported once read (afterRead): 'pending' now would be wrong for stored ones.
    if (this.names.change(added, removed)) this.o.onChange?.();
  }

  /** Names just read that are still served: they start their order when due (tick() does the same for all). */
  private afterRead(read: Entry[], done: boolean): void {
    if (this.closed) return;
    const now = this.clock.now();
    for (const e of read) this.start(e, now);
    if (done) this.o.onChange?.();
  }

  /** Resolves once every name ensure() was given has had its storage read (tests, the scale bench). */
  whenRead(): Promise<void> { return this.names.whenRead(); }

  status(): CertStatus[] { return [...this.names.values()].map(statusOf); }

  /** Starts whatever is due now; resolves when those attempts finish (tests await it). */
  async tick(): Promise<void> {
    if (this.closed) return;
    await this.names.whenRead(); // what is not read yet may be stored: never ordered before that
    if (this.closed) return;
    const now = this.clock.now();
    // Backoff files of names no longer served go once no process can be relying on them (at most hourly).
    this.backoffs.sweep(this.names.values(), now, (this.o.backoff ?? DEFAULT_BACKOFF).maxMs, this.o.lockStaleMs ?? 120_000);
    // So do stored certificates of names no longer served, and other CAs' of served ones, a day after they expired (cert-sweep.ts).
    this.sweeper.sweep(this.names.values(), now, this.o.lockStaleMs ?? 120_000);
    this.ticking = true;
    try { this.pickUpStored(); } finally { this.ticking = false; }
    const started: Promise<void>[] = [];
    for (const e of this.names.values()) {
      const running = this.start(e, now);
      if (running) started.push(running);
    }
    await Promise.all(started);
  }

  /** Starts the entry's ARI look-up and/or order when due; its attempt in flight, undefined when none. */
  private start(e: Entry, now: number): Promise<void> | undefined {
    if (e.running || this.names.pending(e)) return e.running;
    const ari = Boolean(e.certPem && e.issuer.renewalInfo && now >= e.ariCheckAt);
    if (!ari && !this.due(e, now)) return undefined;
    e.running = this.slots.run(e.issuer, async () => {
      if (ari) await refreshAri(e, this.clock, this.o.storage, this.o.log); // its advice may make the certificate due right now
      if (this.due(e, this.clock.now())) await this.ordering.attempt(e);
    }, e.host).finally(() => { e.running = undefined; });
    return e.running;
  }

  /**
   * Stops looking for work and waits for orders in flight, at most `graceMs`: an order about to store
   * its certificate gets to, but a slow CA must not hold up a stopping proxy (SIGTERM, a worker whose
   * primary died). What is cut short leaves a lock naming a process that is gone, broken at once by
   * the next one (lock.ts).
   */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    this.ordering.close();
    this.slots.close();
    this.names.close();
    this.waits.close();
    clearInterval(this.timer);
    clearInterval(this.watch);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => { timer = setTimeout(r, graceMs); });
    await Promise.race([Promise.all([...this.names.values()].map((e) => e.running).filter(Boolean)), grace]);
    clearTimeout(timer);
  }

  private due(e: Entry, now: number): boolean {
    return (!e.meta || now >= renewAt(e.meta)) && now >= e.nextAttemptAt;
  }

  /** Looks for certificates siblings stored (siblings.ts); the CA's advice about adopted ones now, not at the next tick. */
  private pickUpStored(): void {
    if (this.closed) return;
    // Only names already read: the others read whatever is stored when their turn comes.
    if (this.stored.pickUp(this.names.readEntries()) && !this.ticking) void this.tick();
  }
}
