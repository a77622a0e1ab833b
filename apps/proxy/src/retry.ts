// What every request path does when an attempt at an upstream fails before the client saw a
// response byte (fast/exchange.ts, forward.ts, upgrade.ts), so the three cannot drift apart.
// A refused connect sent nothing: the endpoint is marked down for a moment and the request may go
// to another one whatever its method. Any other failure is retried only for a request that can be
// replayed (idempotent method, no body) and of which nothing went out or came back yet.
// A malformed response head (nginx's proxy_next_upstream invalid_header), a 101 to a request that
// asked for no upgrade, and a connection closed or reset after part of a head are such failures —
// the bytes that came back are dropped, the client sees none — but the app got the request: it goes
// to another replica only when replayable, else 502: UPSTREAM_INVALID_RESPONSE for a head the app
// answered wrongly, UPSTREAM_UNAVAILABLE for one cut short (as for a connection dropped before any byte).
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

/** What the proxy's 502 UPSTREAM_INVALID_RESPONSE names for a response head that is not HTTP/1.x. */
export const MALFORMED_RESPONSE_HEAD = 'a malformed response head';
/** …and for a 101 Switching Protocols to a request without Upgrade (undici's 'bad upgrade'). */
export const UNASKED_UPGRADE = 'a 101 Switching Protocols to a request that asked for no upgrade';
/** The warn line of an app connection that closed or reset after its response head went out (the client's answer is cut; never retried): both paths say it alike. */
export const UPSTREAM_BROKE_OFF = 'upstream broke off its response';

/** Says UPSTREAM_BROKE_OFF, as nginx says "upstream prematurely closed connection": one line, every path (fast, node:http, HTTP/2). */
export function warnBrokeOff(ctx: ProxyContext, requestId: string, app: string, endpoint: string, err: NodeJS.ErrnoException): void {
  ctx.log.warn({ requestId, app, endpoint, err: err.code ?? err.message }, UPSTREAM_BROKE_OFF);
}

// How undici marks its HTTPParserError (its `instanceof` reads it, so it holds across copies);
// undici 7 leaves that error's `code` undefined, so the code alone cannot tell.
const UNDICI_PARSER_ERROR = Symbol.for('undici.error.UND_ERR_HTTP_PARSER');

/**
 * A parser's refusal of a response head before any of it was passed on (a bad status line, a field
 * line without a colon, bare LFs…): undici's HTTPParserError, node's client's `HPE_*` errors. A
 * head past the read bound is head-limits.ts's (isResponseHeadOverflow), checked before this.
 */
export function isMalformedResponseHead(err: unknown): boolean {
  const e = err as (NodeJS.ErrnoException & { [UNDICI_PARSER_ERROR]?: boolean }) | undefined;
  if (e?.[UNDICI_PARSER_ERROR] === true) return true;
  return typeof e?.code === 'string' && e.code.startsWith('HPE_') && e.code !== 'HPE_HEADER_OVERFLOW';
}

/**
 * What a 502 UPSTREAM_INVALID_RESPONSE names for an error undici gave before any response byte
 * passed on, when the app answered wrongly rather than dropped the connection; else undefined.
 * undici's refusal of a 101 to a request without Upgrade is a SocketError told apart by its message.
 */
export function invalidResponseHead(err: NodeJS.ErrnoException): string | undefined {
  if (isMalformedResponseHead(err)) return MALFORMED_RESPONSE_HEAD;
  if (err.code === 'UND_ERR_SOCKET' && err.message === 'bad upgrade') return UNASKED_UPGRADE;
  return undefined;
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
