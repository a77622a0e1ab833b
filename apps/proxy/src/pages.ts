// What the proxy itself answers when it cannot forward: short, clear, text or JSON. Pure.
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { rawHeaderLines } from './headers.js';

/** The proxy's own error codes and their status (docs/errors.md § The proxy; a test holds them equal). */
export const PROXY_ERRORS = {
  BAD_REQUEST: 400, REQUEST_TIMEOUT: 408, REQUEST_BODY_TOO_LARGE: 413, HEADERS_TOO_LARGE: 431,
  NO_ROUTE: 404, NO_HEALTHY_REPLICA: 503, UPSTREAM_UNAVAILABLE: 502, UPSTREAM_INVALID_RESPONSE: 502,
  PROXY_OVERLOADED: 503, ROUTES_NOT_LOADED: 503,
} as const;
export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

export interface Page { status: number; headers: Record<string, string>; body: string }

/** The host as it may appear in a page: printable, short (it comes from the client). */
export function displayHost(raw: string | undefined): string {
  return (raw ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, 100) || '(no Host header)';
}

export function errorPage(code: ProxyErrorCode, message: string, requestId: string, reqHeaders: IncomingHttpHeaders, extra: Record<string, string> = {}): Page {
  const status = PROXY_ERRORS[code];
  const wantsJson = /\bapplication\/(?:[\w.+-]*\+)?json\b/.test(String(reqHeaders.accept ?? ''));
  const body = wantsJson
    ? JSON.stringify({ statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message, requestId }) + '\n'
    : `${message}\n`;
  return {
    status,
    body,
    headers: {
      'content-type': wantsJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      'x-request-id': requestId,
      'x-dream-error': code,
      ...extra,
    },
  };
}

export const pages = {
  badHost: (id: string, h: IncomingHttpHeaders) =>
    errorPage('BAD_REQUEST', 'The Host header (or request target) is missing or not valid.', id, h),
  noRoute: (host: string, id: string, h: IncomingHttpHeaders) =>
    errorPage('NO_ROUTE', `No app is served at ${displayHost(host)}.`, id, h),
  // A starting proxy with no cached table whose api gave none within the wait (routes/first-table.ts).
  routesNotLoaded: (id: string, h: IncomingHttpHeaders) =>
    errorPage('ROUTES_NOT_LOADED', 'This proxy is starting and has no route table yet (the api has not answered). Try again in a few seconds.', id, h, { 'retry-after': '5' }),
  noReplica: (app: string, id: string, h: IncomingHttpHeaders) =>
    errorPage('NO_HEALTHY_REPLICA', `${app} has no healthy replica right now.`, id, h, { 'retry-after': '5' }),
  // What node:http's parser refused (server.ts 'clientError'): no request id was read yet.
  headersTooLarge: (id: string) =>
    errorPage('HEADERS_TOO_LARGE', 'The request line and headers are larger than this proxy accepts (16 KB). Send fewer or smaller headers (large cookies are the usual cause).', id, {}),
  requestTimeout: (id: string) =>
    errorPage('REQUEST_TIMEOUT', 'The request headers did not arrive in time.', id, {}),
  // A body still due stopped arriving (fast/connection-end.ts, upload-body.ts): sent, then the connection closes.
  uploadStalled: (ms: number, id: string, h: IncomingHttpHeaders) =>
    errorPage('REQUEST_TIMEOUT', `The request body stopped arriving: none of it came for ${Math.round(ms / 1000)} s. Send it again.`, id, h),
  bodyTooLarge: (max: number, id: string, h: IncomingHttpHeaders) =>
    errorPage('REQUEST_BODY_TOO_LARGE', `The request body is larger than this app accepts (${max} bytes). Send a smaller one; the limit is the app's setting (dream apps set APP max-request-body=SIZE), else the proxy's (DREAM_PROXY_MAX_REQUEST_BODY).`, id, h),
  malformed: (id: string) =>
    errorPage('BAD_REQUEST', 'The request is not valid HTTP/1.1: lines must end in CRLF, the target must be printable ASCII (percent-encode anything else), and headers may not hold control bytes.', id, {}),
  upstreamFailed: (app: string, id: string, h: IncomingHttpHeaders) =>
    errorPage('UPSTREAM_UNAVAILABLE', `${app} did not answer: its replicas refused or dropped the connection. Check \`dream logs ${app}\`.`, id, h),
  // The proxy could not open a connection to the app for lack of file descriptors (fd-limit.ts):
  // the app was not asked and is not to blame; trying again shortly may work.
  overloaded: (app: string, id: string, h: IncomingHttpHeaders) =>
    errorPage('PROXY_OVERLOADED', `This proxy is at its open-files limit and could not open a connection to ${app}. Try again in a few seconds.`, id, h, { 'retry-after': '5' }),
  invalidResponse: (app: string, what: string, id: string, h: IncomingHttpHeaders) =>
    errorPage('UPSTREAM_INVALID_RESPONSE', `${app} answered with a response this proxy cannot pass on (${what}). Check \`dream logs ${app}\`.`, id, h),
  /** The 502 once no replica is left: `invalid` (what the last app answered wrongly) or a dropped connection. */
  upstreamFailure: (app: string, invalid: string | undefined, id: string, h: IncomingHttpHeaders) =>
    (invalid ? pages.invalidResponse(app, invalid, id, h) : pages.upstreamFailed(app, id, h)),
};

/** The Keep-Alive value for an idle timeout of `ms`, as node's server writes it (whole seconds, rounded down). */
export const keepAliveTimeoutValue = (ms: number): string => `timeout=${Math.floor(ms / 1000)}`;

/**
 * A page as raw HTTP/1.1 bytes, for the paths that write sockets directly (fast path, upgrades):
 * `connection: close`, or with `keepAliveMs` the idle timeout the connection is kept for.
 */
export function rawPage(p: Page, method: string, close: boolean, keepAliveMs = 0): string {
  const fields = close ? { ...p.headers, connection: 'close' } : keepAliveMs > 0 ? { ...p.headers, 'keep-alive': keepAliveTimeoutValue(keepAliveMs) } : p.headers;
  const head = `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? 'Error'}\r\n${rawHeaderLines(fields)}\r\n`;
  return method === 'HEAD' ? head : head + p.body;
}
