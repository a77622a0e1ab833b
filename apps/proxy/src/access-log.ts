// The access log: one line per finished request on stdout (JSON, like every other proxy log line),
// switched off with DREAM_ACCESS_LOG=off — then nothing per request is measured or written.
import type http from 'node:http';
import { pino, type Logger } from 'pino';
import { clientIp } from './context.js';
import { rareWarning } from './rare-warning.js';
import { clientOf, type TrustCheck } from './trust.js';

export interface AccessEntry {
  method: string;
  host: string;
  path: string;
  status: number;
  /** Bytes sent to the client for this request (HTTP/1: headers + body; HTTP/2: body). */
  bytes: number;
  /** From the request's arrival to the end of the response, in milliseconds. */
  ms: number;
  /** "host:port" of the replica that answered, or "-" when the proxy answered itself. */
  upstream: string;
  requestId: string;
  /** The client's address as apps get it (IPv4 of a dual-stack listener plain, no IPv6 zone); behind a
   * trusted proxy the right-most X-Forwarded-For address it did not vouch for itself (trust.ts clientOf). */
  client: string;
  /** "1.1" or "2.0". */
  proto: string;
}

export type AccessLog = (e: AccessEntry) => void;

/** What a request asked, kept from its arrival until its entry is written. */
export interface Asked {
  method: string; host: string; path: string; proto: string;
  xff: string | string[] | undefined;
  /** The TCP peer as clientIp() reads it. */
  peer: string;
  requestId: string;
  /** performance.now() at arrival. */
  t0: number;
}

/** A request node:http (or its HTTP/2 compat API) parsed, as it arrives. */
export function askedOf(req: http.IncomingMessage, requestId: string): Asked {
  return {
    method: req.method ?? '', host: String(req.headers.host ?? req.headers[':authority'] ?? ''), path: req.url ?? '',
    proto: req.httpVersion, xff: req.headers['x-forwarded-for'], peer: clientIp(req), requestId, t0: performance.now(),
  };
}

/**
 * The entry of a finished request: the one place every path (fast path, node:http, upgrades) makes
 * one, so they log the same fields the same way.
 */
export function accessEntry(a: Asked, trusted: TrustCheck, status: number, bytes: number, upstream: string): AccessEntry {
  return {
    method: a.method, host: a.host, path: a.path, status, bytes, ms: Math.round((performance.now() - a.t0) * 1000) / 1000,
    upstream, requestId: a.requestId, proto: a.proto, client: clientOf(a.peer, a.xff, trusted),
  };
}

/** What the writer holds while stdout's reader is behind, at most (~40 000 lines); lines beyond it are dropped. */
export const ACCESS_LOG_MAX_BUFFER = 16 << 20;

export interface AccessLogWriter { log: AccessLog; flush(): void; close(): void; buffered(): number }

/**
 * A buffered, asynchronous writer to `fd` (a line costs a few µs, never a syscall per request);
 * `flush()` before exit. A reader that stalls (keeps the pipe open, stops reading) would have every
 * line kept in memory for as long as it lasts (~1 KB a request); past `maxBytes` lines are dropped
 * and counted, with one ACCESS_LOG_DROPPED warning a minute on `warnLog` (rare-warning.ts). And
 * flushing waited for a non-blocking pipe's reader by retrying EAGAIN for ever (sonic-boom sleeps
 * and writes again), holding a stopping proxy until it was killed: flush() gives it `flushMs`, then
 * the lines still held are given up. A blocking pipe (how node leaves an inherited stdout pipe)
 * answers no EAGAIN: its write waits in the thread pool, and so does the process's exit — compose
 * runs docker's log driver non-blocking so the pipe is always read (compose/docker-compose.yml).
 */
export function accessLogTo(fd: number, warnLog: Logger, maxBytes = ACCESS_LOG_MAX_BUFFER, flushMs = 2000): AccessLogWriter {
  let giveUpAt = Infinity;
  const dest = pino.destination({ fd, sync: false, minLength: 4096, maxLength: maxBytes, retryEAGAIN: () => Date.now() < giveUpAt });
  const dropped = rareWarning(warnLog, 'ACCESS_LOG_DROPPED', {}, 'access log: stdout is read again; lines are written again');
  dest.on('drop', () => dropped({ maxBytes }, `access log: the reader of stdout is not keeping up, ${maxBytes} bytes of lines are waiting: further lines are dropped (counted in \`failed\`) until it reads again`));
  // An EAGAIN given up (only while flushing to stop) is an 'error' too: nothing more to do with it.
  dest.on('error', () => {});
  const out = pino({ name: 'access', base: null, level: 'info' }, dest);
  return {
    log: (e) => out.info(e, 'access'),
    flush: () => {
      giveUpAt = Date.now() + flushMs;
      try { dest.flushSync(); } catch { /* not open yet, closed, or the reader still behind after flushMs */ }
      giveUpAt = Infinity;
    },
    close: () => { try { dest.destroy(); } catch { /* closed */ } },
    // SonicBoom keeps what it could not write yet in `_len` (bytes); not in its typings.
    buffered: () => (dest as unknown as { _len: number })._len,
  };
}

/** The access log on stdout. */
export function stdoutAccessLog(warnLog: Logger): AccessLogWriter {
  return accessLogTo(1, warnLog);
}
