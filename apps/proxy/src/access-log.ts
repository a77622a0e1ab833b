// The access log: one line per finished request on stdout (JSON, like every other proxy log line),
// switched off with DREAM_ACCESS_LOG=off — then nothing per request is measured or written.
import { pino } from 'pino';

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

/**
 * A buffered, asynchronous writer to fd 1 (a line costs a few µs, never a syscall per request);
 * `flush()` before exit.
 */
export function stdoutAccessLog(): { log: AccessLog; flush(): void } {
  const dest = pino.destination({ fd: 1, sync: false, minLength: 4096 });
  const out = pino({ name: 'access', base: null, level: 'info' }, dest);
  return {
    log: (e) => out.info(e, 'access'),
    flush: () => { try { dest.flushSync(); } catch { /* not open yet or closed */ } },
  };
}
