// One certificate order for one entry, as CertManager starts it when the entry is due: under the
// name's order lock (one process orders a name at a time; the others adopt what it stores), after
// the backoff another process may have recorded, within the account's order throttle; the result
// stored, or the failure backed off (minutes → hours, or as long as the CA's Retry-After said when it
// held the order back: ca-hold.ts) with the CA's reason on the entry.
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { BackoffStore } from './backoff.js';
import { CaHold } from './ca-hold.js';
import { readableReason, throttledReason, type Entry } from './entry.js';
import { HeldBackLog } from './held-back-log.js';
import type { Issuer } from './issuer.js';
import { backoffMs, DEFAULT_BACKOFF, renewAt, type BackoffPolicy, type Clock } from './renewal.js';
import { TlsStorage, type CertMeta } from './storage.js';
import type { SiblingCerts } from './siblings.js';
import { serialOf } from './stored.js';
import { AccountThrottle } from './throttle.js';

export interface OrderDeps {
  storage: TlsStorage;
  stored: SiblingCerts;
  backoffs: BackoffStore;
  clock: Clock;
  log?: Logger;
  backoff?: BackoffPolicy;
  throttle?: { max: number; windowMs: number };
  lockStaleMs: number;
  onChange?: () => void;
  /** Look for due work again (the entry was made due by a timer). */
  retry(): void;
}

export class CertOrders {
  private readonly throttles = new Map<string, AccountThrottle>();
  private readonly held = new Map<string, HeldBackLog>();
  /** Orders started by this process (tests and metrics). */
  count = 0;

  constructor(private readonly o: OrderDeps) {}

  async attempt(e: Entry): Promise<void> {
    const now = this.o.clock.now();
    const release = this.o.storage.tryLock(e.host, this.o.lockStaleMs);
    const t = this.throttle(e.issuer);
    if (!release) {
      // Another proxy (or worker) is ordering it: look again soon and adopt what it stores. The
      // timer makes the entry due itself: a timer may fire a millisecond before Date.now() reaches
      // nextAttemptAt, and tick() would then skip it until the next periodic pass (flaky test:
      // "two proxies on one data dir", the second proxy served nothing for a minute).
      e.nextAttemptAt = now + 2000;
      setTimeout(() => { if (e.nextAttemptAt === now + 2000) e.nextAttemptAt = 0; this.o.retry(); }, 2000).unref();
      return;
    }
    try {
      // It may have finished while we waited for the lock.
      if (this.o.stored.adoptNewer(e) && this.o.clock.now() < renewAt(e.meta!)) return;
      // Or failed while we waited: its backoff holds this process back too.
      if (this.o.backoffs.restore(e, this.o.clock.now())) return;
      // Taken only now that an order really starts: polling another process's lock is not an order.
      const { wait, why } = (await t?.take()) ?? { wait: 0 };
      if (wait > 0) {
        Object.assign(e, { nextAttemptAt: this.o.clock.now() + wait, waiting: why ?? throttledReason(t!.max, t!.windowMs) });
        // The CA's hold on the account was said once, by the order it refused (below); not again per name.
        if (why) this.o.log?.debug({ host: e.host, retryAt: new Date(e.nextAttemptAt).toISOString() }, `certificate order held back: ${e.waiting}`);
        else this.heldBack(e.issuer).held(e.host, e.nextAttemptAt, e.waiting!); // one warn line for many names
        return;
      }
      Object.assign(e, { state: e.meta ? 'renewing' : 'pending', waiting: undefined });
      this.o.onChange?.();
      this.count++;
      this.o.log?.info({ host: e.host, issuer: e.issuer.name, renewal: Boolean(e.meta) }, 'ordering certificate');
      const pair = await e.issuer.issue([e.host], this.o.clock, e.certPem);
      const meta: CertMeta = { host: e.host, issuer: e.issuer.name, notBefore: pair.notBefore.toISOString(), notAfter: pair.notAfter.toISOString() };
      const ari = await e.issuer.renewalInfo?.(pair.certPem).catch(() => undefined);
      if (ari) Object.assign(meta, { ariRenewAt: ari.renewAt.toISOString(), ariSerial: serialOf(pair.certPem) });
      const ctx = tls.createSecureContext({ cert: pair.certPem, key: pair.keyPem });
      this.o.storage.saveCert(e.issuer.id, { certPem: pair.certPem, keyPem: pair.keyPem, meta });
      e.stamp = this.o.storage.certStamp(e.issuer.id, e.host);
      const ariCheckAt = this.o.clock.now() + (ari?.retryAfterMs ?? 6 * 3600_000);
      Object.assign(e, { ctx, meta, certPem: pair.certPem, ariCheckAt, state: 'issued', error: undefined, failures: 0, nextAttemptAt: 0 });
      this.o.backoffs.clear(e);
      this.o.log?.info({ host: e.host, notAfter: meta.notAfter }, 'certificate issued');
    } catch (err) {
      e.failures++;
      e.error = readableReason(err);
      e.state = 'failing';
      // Not before the CA said it takes an order again (a retry before is refused again, and Let's
      // Encrypt may extend the limit), nor before our own backoff.
      const own = this.o.clock.now() + backoffMs(e.failures, this.o.backoff ?? DEFAULT_BACKOFF);
      const hold = err instanceof CaHold ? err : undefined;
      e.nextAttemptAt = Math.max(own, hold?.retryAt ?? 0);
      this.o.log?.warn({ host: e.host, failures: e.failures, retryAt: new Date(e.nextAttemptAt).toISOString(), err: e.error },
        hold ? `certificate order refused: ${hold.what}; the CA is not asked again before retryAt` : 'certificate order failed');
      this.o.backoffs.save(e);
      // An account's limit holds back its other names too, in every process on the data dir.
      if (hold?.accountWide && hold.retryAt !== undefined) await t?.hold(hold.retryAt, e.error);
    } finally {
      release();
      this.o.onChange?.();
    }
  }

  /** Logs the names held back that are still being gathered (a stopping proxy). */
  close(): void { for (const h of this.held.values()) h.flush(); }

  /**
   * The account's throttle; none for the built-in CA (no CA to be polite to). Per account, not per
   * directory: another EAB key id on the same directory is another account with its own limit.
   */
  private throttle(issuer: Issuer): AccountThrottle | undefined {
    if (issuer.id === 'builtin') return undefined;
    const account = accountOf(issuer);
    let t = this.throttles.get(account);
    if (!t) this.throttles.set(account, t = new AccountThrottle(this.o.storage, account, this.o.throttle?.max ?? 30, this.o.throttle?.windowMs ?? 3600_000, this.o.clock, this.o.log));
    return t;
  }

  /** The account's one warn line for the names its throttle holds back (held-back-log.ts). */
  private heldBack(issuer: Issuer): HeldBackLog {
    const account = accountOf(issuer);
    let h = this.held.get(account);
    if (!h) this.held.set(account, h = new HeldBackLog(account, this.o.clock, this.o.log));
    return h;
  }
}

const accountOf = (issuer: Issuer) => issuer.accountId ?? TlsStorage.issuerId(issuer.id);
