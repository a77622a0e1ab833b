// The CA said when to come back: an RFC 8555 `rateLimited` problem (HTTP 429; Let's Encrypt's
// duplicate certificate, failed validations per name, new orders per account…) or a 503 with
// Retry-After (maintenance). acme-client folds the answer into an Error holding only the problem's
// detail (type, status and headers are lost), and by itself waited the Retry-After inside the
// request, unbounded, then sent it again: the order hung as 'pending' with no reason (for as long as
// the CA said, days for a duplicate certificate), and a second refusal fell to our own backoff
// (1 min), asking the CA again before it said. So every answer the CA gives during an order is
// noted (per order, AsyncLocalStorage), an answer is never retried by acme-client, and an order the
// CA held back fails with a CaHold that says until when (order.ts backs the name off that long).
// Time is the manager's clock (order.ts passes it in): on Date.now(), a manager on another clock (a
// test's) compared the CA's retry time with its own and kept the wrong one.
import { AsyncLocalStorage } from 'node:async_hooks';
import { readableReason } from './entry.js';
import { systemClock, type Clock } from './renewal.js';
import { parseRetryAfter } from './retry-after.js';

/** The longest a CA's Retry-After is honoured (a wrong or hostile one must not stop a name for ever). */
export const MAX_HOLD_MS = 7 * 86_400_000;

const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';

interface Answer { status: number; type?: string; detail?: string; retryAfter?: string; at: number }

const orders = new AsyncLocalStorage<{ clock: Clock; last?: Answer }>();

export class CaHold extends Error {
  constructor(
    message: string,
    /** When the CA said it takes an order again (epoch ms, ≤ MAX_HOLD_MS ahead); undefined: it did not say. */
    readonly retryAt: number | undefined,
    /** The limit is the account's (new orders, registrations) or the whole CA's (503): every name waits. */
    readonly accountWide: boolean,
    /** The hold in a few words, for the log line (the message adds until when and the CA's detail). */
    readonly what: string,
  ) { super(message); }
}

/**
 * axios `transformResponse` step for acme-client's instance (account.ts): called with the request's
 * config as `this` for every answer, error statuses included, before acme-client's own retry looks
 * at it. Marking the request as out of retries leaves the waiting to our backoff (requests that got
 * no answer at all are still retried once).
 */
export function noteCaAnswer(this: { retryAttempt?: number } | undefined, data: unknown, headers: unknown, status?: number): unknown {
  if (typeof status !== 'number') return data;
  if (this) this.retryAttempt = Number.MAX_SAFE_INTEGER;
  const store = orders.getStore();
  if (!store) return data;
  const p = (data && typeof data === 'object' ? data : {}) as { type?: unknown; detail?: unknown };
  const h = headers as { get?: (n: string) => unknown; [k: string]: unknown } | undefined;
  const retryAfter = typeof h?.get === 'function' ? h.get('retry-after') : h?.['retry-after'];
  store.last = status < 400 ? undefined : {
    status, at: store.clock.now(),
    type: typeof p.type === 'string' ? p.type : undefined,
    detail: typeof p.detail === 'string' ? p.detail : undefined,
    retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
  };
  return data;
}

/** The CA's last answer in this order, as a CaHold when it held the order back; undefined otherwise. */
export function caHold(err: unknown): CaHold | undefined {
  const a = orders.getStore()?.last;
  if (!a) return undefined;
  const limited = a.type === RATE_LIMITED || a.status === 429;
  const wait = parseRetryAfter(a.retryAfter, a.at);
  if (!limited && !(a.status === 503 && wait !== undefined)) return undefined;
  const retryAt = wait === undefined ? undefined : a.at + Math.min(MAX_HOLD_MS, Math.max(0, wait));
  // Let's Encrypt names the account in the limits that are the account's ("from this account",
  // "new registrations"); its links to the docs say "per-account" for per-name ones too.
  const said = (a.detail ?? '').replace(/\bhttps?:\/\/\S+/g, '');
  const accountWide = !limited || /\b(this|your) account\b|\bregistrations?\b/i.test(said);
  const until = retryAt === undefined ? '' : ` until ${new Date(retryAt).toISOString()}`;
  const what = limited ? `rate-limited by the CA (HTTP ${a.status}${accountWide ? ', for the whole ACME account' : ''})` : 'the CA is unavailable (HTTP 503)';
  return new CaHold(`${what}${until}: ${a.detail ?? readableReason(err)}`, retryAt, accountWide, what);
}

/**
 * Runs one order with its answers noted; a failure the CA's hold explains is thrown as that CaHold,
 * its retryAt on `clock` (the manager's).
 */
export async function watchCaAnswers<T>(order: () => Promise<T>, clock: Clock = systemClock): Promise<T> {
  return orders.run({ clock }, async () => {
    try { return await order(); } catch (e) { throw caHold(e) ?? e; }
  });
}
