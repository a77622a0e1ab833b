// What the proxy itself answers when it cannot forward: short, clear, text or JSON. Pure.
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { rawHeaderLines } from './headers.js';

export type ProxyErrorCode = 'NO_ROUTE' | 'NO_HEALTHY_REPLICA' | 'UPSTREAM_UNAVAILABLE' | 'BAD_REQUEST';

export interface Page { status: number; headers: Record<string, string>; body: string }

const TITLES: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** The host as it may appear in a page: printable, short (it comes from the client). */
export function displayHost(raw: string | undefined): string {
  return (raw ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, 100) || '(no Host header)';
}

export function errorPage(code: ProxyErrorCode, status: number, message: string, requestId: string, reqHeaders: IncomingHttpHeaders, extra: Record<string, string> = {}): Page {
  const wantsJson = /\bapplication\/(?:[\w.+-]*\+)?json\b/.test(String(reqHeaders.accept ?? ''));
  const body = wantsJson
    ? JSON.stringify({ statusCode: status, code, error: TITLES[status] ?? 'Error', message, requestId }) + '\n'
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
    errorPage('BAD_REQUEST', 400, 'The Host header (or request target) is missing or not valid.', id, h),
  noRoute: (host: string, id: string, h: IncomingHttpHeaders) =>
    errorPage('NO_ROUTE', 404, `No app is served at ${displayHost(host)}.`, id, h),
  noReplica: (app: string, id: string, h: IncomingHttpHeaders) =>
    errorPage('NO_HEALTHY_REPLICA', 503, `${app} has no healthy replica right now.`, id, h, { 'retry-after': '5' }),
  upstreamFailed: (app: string, id: string, h: IncomingHttpHeaders) =>
    errorPage('UPSTREAM_UNAVAILABLE', 502, `${app} did not answer: its replicas refused or dropped the connection. Check \`dream logs ${app}\`.`, id, h),
};

/** A page as raw HTTP/1.1 bytes, for the paths that write sockets directly (fast path, upgrades). */
export function rawPage(p: Page, method: string, close: boolean): string {
  const head = `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? 'Error'}\r\n${rawHeaderLines(close ? { ...p.headers, connection: 'close' } : p.headers)}\r\n`;
  return method === 'HEAD' ? head : head + p.body;
}
