// acme-client itself, apart from any account: it is loaded only when an order, a registration or a
// renewal check first needs it (~10 MB an idle proxy never loads), and its one shared axios instance
// is set up once for every account and issuer: an extra CA bundle, a bound on every request, no
// retries of its own (ca-hold.ts and our backoff decide when to ask again). Moved out of account.ts
// (past 200 lines), no behaviour change.
import https from 'node:https';
import tls from 'node:tls';
import type * as acme from 'acme-client';
import { noteCaAnswer } from './ca-hold.js';

type Acme = typeof acme;

let lib: Acme | undefined;
let loading: Promise<Acme> | undefined;
let extraCa: string | undefined;

/**
 * How long one request to an ACME server may go unanswered. axios waits forever by default: a CA
 * that accepted the connection and never answered (hung, or a black-holed load balancer) left the
 * order running for as long as the process lived — its lock kept fresh (no sibling could order the
 * name), no backoff, no reason in `dream domains`, and SIGTERM never finished stopping the proxy.
 */
export const ACME_REQUEST_TIMEOUT_MS = 30_000;

/**
 * acme-client talks through one shared axios instance: trust an extra CA bundle there (a private or
 * test ACME server), bound every request (ACME_REQUEST_TIMEOUT_MS), and leave retries to our own
 * backoff (its default is 5 tries, 5 s apart; a request that got no answer is still tried once more).
 */
function configure(a: Acme, ca: string | undefined): void {
  if (ca !== undefined) a.axios.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, ca], keepAlive: true });
  a.axios.defaults.timeout = ACME_REQUEST_TIMEOUT_MS;
  const s = (a.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
  s.retryMaxAttempts = 1;
  s.retryDefaultDelay = 1;
  // The CA's answers seen per order, and never retried by acme-client (ca-hold.ts): its retry waited
  // a 429's or 503's Retry-After inside the order, however long, then asked again.
  const t = a.axios.defaults.transformResponse;
  const steps = (Array.isArray(t) ? t : t ? [t] : []) as unknown[];
  if (!steps.includes(noteCaAnswer)) a.axios.defaults.transformResponse = [...steps, noteCaAnswer] as typeof t;
}

/**
 * acme-client (with axios and its crypto stack), loaded when an order, a registration or a renewal
 * check first needs it: an idle proxy that only serves `.dream` names from the built-in CA, or
 * certificates already issued, never does (~10 MB).
 */
export function acmeLib(): Promise<Acme> {
  loading ??= import('acme-client').then((m) => {
    const a = (m as unknown as { default: Acme }).default;
    configure(a, extraCa);
    lib = a;
    return a;
  });
  return loading;
}

/** Settings for acme-client: extra CA certificates (read and checked at start, setting-files.ts). */
export function configureAcmeHttp(caBundle?: string): void {
  if (!caBundle) return;
  extraCa = caBundle;
  if (lib) configure(lib, extraCa);
}
