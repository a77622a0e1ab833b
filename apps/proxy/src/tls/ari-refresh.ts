// Asking the CA when to renew a served certificate (ARI, ari.ts), as the manager's tick does when
// an entry's ariCheckAt has come: the advice goes into the entry's meta and beside its stored pair.
import type { Logger } from 'pino';
import type { Entry } from './entry.js';
import { renewAt, type Clock } from './renewal.js';
import type { TlsStorage } from './storage.js';
import { serialOf } from './stored.js';

/** A failure keeps the last advice and asks again in an hour. */
export async function refreshAri(e: Entry, clock: Clock, storage: TlsStorage, log?: Logger): Promise<void> {
  const advice = await e.issuer.renewalInfo!(e.certPem!).catch(() => null);
  // No ARI at this CA: look again in 6 h (it may start offering it); unreachable: in 1 h.
  e.ariCheckAt = clock.now() + (advice ? advice.retryAfterMs : advice === null ? 3600_000 : 6 * 3600_000);
  if (!advice || !e.meta) return;
  e.meta = { ...e.meta, ariRenewAt: advice.renewAt.toISOString(), ariSerial: serialOf(e.certPem!) };
  const due = clock.now() >= renewAt(e.meta);
  if (due && e.state === 'issued') e.state = 'renewing';
  // Advised later than it stood: not due, so neither renewing nor failing — a failed early renewal
  // kept saying 'failing', with a retry time long past, for a certificate that serves and is not
  // due. The failure count stays, so that the backoff goes on from it should the renewal fail again.
  else if (!due && (e.state === 'renewing' || e.state === 'failing')) Object.assign(e, { state: 'issued', error: undefined });
  // Kept in memory regardless; a write failure must not reject tick() (nobody awaits the timer's).
  try { storage.saveMeta(e.issuer.id, e.meta); } catch (err) { log?.warn({ host: e.host, err: (err as Error).message }, 'renewal information not stored'); }
}
