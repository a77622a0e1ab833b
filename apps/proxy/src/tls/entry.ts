// One name the manager serves, and its status as `dream domains` shows it (reporter.ts → api).
import type tls from 'node:tls';
import type { Issuer } from './issuer.js';
import type { CertMeta } from './storage.js';
import type { CertState, CertStatus } from './types.js';

export interface Entry {
  host: string;
  issuer: Issuer;
  meta?: CertMeta;
  ctx?: tls.SecureContext;
  state: CertState;
  error?: string;
  failures: number;
  nextAttemptAt: number;
  /** Why the name waits though its last order did not fail (the per-account throttle). */
  waiting?: string;
  /** The certificate being served (sent as ARI `replaces` when it is renewed). */
  certPem?: string;
  /** When to ask the CA's renewal information again (0: at the next tick). */
  ariCheckAt: number;
  running?: Promise<void>;
  /** storage.certStamp() of the pair this process last read or wrote: a different one was stored since. */
  stamp?: string;
}

/** The longest reason reported (the api refuses a whole report with one over 4000 characters). */
export const MAX_REASON = 1000;

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * A failed order's reason as `dream domains` shows it. acme-client passes the CA's problem detail
 * on, but for an answer that is not an ACME problem document it puts the whole body, JSON-quoted,
 * in its message: a CDN's or load balancer's HTML error page (kilobytes) becomes its title.
 */
export function readableReason(err: unknown): string {
  let text = (err instanceof Error ? err.message : '') || String(err);
  if (text.startsWith('"')) { try { const s: unknown = JSON.parse(text); if (typeof s === 'string') text = s; } catch { /* cut short: keep it */ } }
  if (/<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])/i.test(text)) {
    const plain = (html: string) => html.replace(/<[^>]*>/g, ' ').replace(/&nbsp;/g, ' ').replace(/\\n|\s+/g, ' ').trim();
    const heading = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1] ?? /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(text)?.[1];
    const said = heading ? plain(heading) : '';
    return `the ACME server answered with a web page, not an ACME response${said ? `: "${cut(said, 200)}"` : ''}`;
  }
  return cut(text.trim(), MAX_REASON);
}

/** What `dream domains` says of a name ordered again after a failure, while that order runs. */
export const PREVIOUS_ATTEMPT = 'previous attempt failed: ';

/**
 * A name held back says why and until when; without it a waiting name looks stuck. A name being
 * ordered again (pending/renewing) keeps the failed attempt's reason, said to be that attempt's:
 * bare, it read as the reason of the order under way.
 */
export function statusOf(e: Entry): CertStatus {
  const held = e.state === 'failing' || e.waiting !== undefined;
  const again = e.error && (e.state === 'pending' || e.state === 'renewing') ? PREVIOUS_ATTEMPT + e.error : e.error;
  const reason = [again, e.waiting].filter(Boolean).join('; ');
  return {
    host: e.host, state: e.state, issuer: e.meta?.issuer ?? e.issuer.name, notAfter: e.meta?.notAfter,
    error: reason ? cut(reason, 2 * MAX_REASON) : undefined,
    nextAttemptAt: held ? new Date(e.nextAttemptAt).toISOString() : undefined,
  };
}

/** The throttle's reason as an operator reads it. */
export function throttledReason(max: number, windowMs: number): string {
  const window = windowMs % 3600_000 === 0 ? `${windowMs / 3600_000} h` : `${Math.round(windowMs / 60_000)} min`;
  return `throttled: this ACME account already placed ${max} orders in the last ${window}, the most this proxy places (the CA limits orders per account)`;
}
