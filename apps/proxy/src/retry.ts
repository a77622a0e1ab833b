// What every request path does when an attempt at an upstream fails before the client saw a
// response byte (fast/exchange.ts, forward.ts, upgrade.ts), so the three cannot drift apart.
// A refused connect sent nothing: the endpoint is marked down for a moment and the request may go
// to another one whatever its method. Any other failure is retried only for a request that can be
// replayed (idempotent method, no body) and of which nothing went out or came back yet.
import type { ProxyContext } from './context.js';

export const MAX_ATTEMPTS = 4;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** May this request be sent again after an upstream failed mid-way? */
export const replayable = (method: string, hasBody: boolean): boolean => IDEMPOTENT.has(method) && !hasBody;

export interface FailedAttempt {
  requestId: string;
  app: string;
  /** The endpoint ("host:port") that failed. */
  key: string;
  err: NodeJS.ErrnoException;
  connectFailed: boolean;
  /** Attempts made so far, this one included. */
  attempts: number;
  /** Request body bytes went out, or response bytes came back: too late to go elsewhere. */
  committed: boolean;
  replayable: boolean;
}

export function shouldRetry(f: Pick<FailedAttempt, 'connectFailed' | 'attempts' | 'committed' | 'replayable'>): boolean {
  return !f.committed && f.attempts < MAX_ATTEMPTS && (f.connectFailed || f.replayable);
}

/** Marks a refused endpoint down, logs the failure, and says whether to try another endpoint. */
export function afterFailedAttempt(ctx: ProxyContext, f: FailedAttempt, what = 'upstream request failed'): boolean {
  if (f.connectFailed) ctx.endpoints.markDown(f.key);
  const retry = shouldRetry(f);
  ctx.log.warn({ requestId: f.requestId, app: f.app, endpoint: f.key, err: f.err.code ?? f.err.message, retry }, what);
  return retry;
}
