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

/** A name held back says why and until when; without it a waiting name looks stuck. */
export function statusOf(e: Entry): CertStatus {
  const held = e.state === 'failing' || e.waiting !== undefined;
  return {
    host: e.host, state: e.state, issuer: e.meta?.issuer ?? e.issuer.name, notAfter: e.meta?.notAfter,
    error: [e.error, e.waiting].filter(Boolean).join('; ') || undefined,
    nextAttemptAt: held ? new Date(e.nextAttemptAt).toISOString() : undefined,
  };
}

/** The throttle's reason as an operator reads it. */
export function throttledReason(max: number, windowMs: number): string {
  const window = windowMs % 3600_000 === 0 ? `${windowMs / 3600_000} h` : `${Math.round(windowMs / 60_000)} min`;
  return `throttled: this ACME account already placed ${max} orders in the last ${window}, the most this proxy places (the CA limits orders per account)`;
}
