// This process at its open-files limit (RLIMIT_NOFILE): every socket is a file descriptor, so a
// flood of idle or slow clients can use them all. Node does not busy-loop then — libuv accepts each
// new connection and closes it at once with a descriptor it keeps in reserve, so new clients get a
// reset — but it tells nothing of it: not an event, not an error. Before this file (measured with a
// limit of 256 and 400 idle connections) the log stayed silent while new clients were reset, and each
// request that needed a new connection to an app (EMFILE) got a 502 blaming the app ("its replicas
// refused or dropped the connection") and a warning line of its own (300 requests, 300 lines).
// Now: a probe once a second opens a file (it fails exactly when an accept would) and failed
// upstream connects report here; one warning (FD_LIMIT_REACHED, operator-warnings.ts) names the
// limit and what to raise, repeated at most once a minute while it lasts, and one line says when
// descriptors are free again. Requests that need a new upstream connection get 503 PROXY_OVERLOADED.
// nginx logs "accept4() failed (24: Too many open files)" at each failed accept instead.
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { ProxyWarningCode } from './operator-warnings.js';
import { WarningBout } from './rare-warning.js';

/** How often the probe looks. */
export const FD_PROBE_MS = 1000;

const CODE: ProxyWarningCode = 'FD_LIMIT_REACHED';

/** EMFILE (this process's limit) or ENFILE (the system's table), on an error or its cause (undici's). */
export function fdErrorCode(err: unknown): 'EMFILE' | 'ENFILE' | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  for (const code of [e?.code, e?.cause?.code]) if (code === 'EMFILE' || code === 'ENFILE') return code;
  return undefined;
}

/** The soft RLIMIT_NOFILE in /proc/self/limits (Linux), or null when it says none. */
function parseLimit(text: string): number | 'unlimited' | null {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  return !m ? null : m[1] === 'unlimited' ? 'unlimited' : Number(m[1]);
}

/**
 * /proc/self/limits, opened once and read again from its start when the limit is needed: procfs
 * writes it anew on each read from offset 0, so prlimit's changes while the proxy runs show, and
 * reading it takes no new descriptor, so it can be read at the limit too (opening it cannot).
 * Holds one descriptor. Elsewhere than Linux: no limit named.
 */
class LimitsFile {
  private fd: number | null = null;
  private readonly buf = Buffer.allocUnsafe(4096);

  constructor() {
    try { this.fd = fs.openSync('/proc/self/limits', 'r'); } catch { /* not Linux: the warning names no number */ }
  }

  /** The current soft limit, or undefined when it cannot be read. */
  read(): number | 'unlimited' | null | undefined {
    if (this.fd === null) return undefined;
    try { return parseLimit(this.buf.toString('latin1', 0, fs.readSync(this.fd, this.buf, 0, this.buf.length, 0))); } catch { return undefined; }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null; // before closing: a reused descriptor number must never be read as this file
    try { fs.closeSync(fd); } catch { /* already gone */ }
  }
}

export class FdLimit {
  private readonly timer: NodeJS.Timeout;
  /** Since the limit was first hit and not yet seen free again; its count is upstream connects refused meanwhile. */
  private readonly bout = new WarningBout();
  private readonly limitsFile = new LimitsFile();
  /** As last read (at start and when warning): the warning names the last known one if it cannot be read. */
  private limit: number | 'unlimited' | null = null;

  constructor(private readonly log: Logger, private readonly probeMs = FD_PROBE_MS) {
    this.limit = this.limitsFile.read() ?? null;
    this.probe();
    this.timer = setInterval(() => this.probe(), probeMs).unref();
  }

  /**
   * A connection to an app failed: true when for lack of descriptors (noted; the caller answers
   * PROXY_OVERLOADED, retries nothing — another replica needs a descriptor too — and marks no
   * endpoint down: the app is fine).
   */
  connectFailed(err: unknown): boolean {
    const code = fdErrorCode(err);
    if (!code) return false;
    this.reached(code, 1);
    return true;
  }

  /** An accept failed for lack of descriptors (accept-errors.ts: libuv's spare one was gone). */
  acceptFailed(code: 'EMFILE' | 'ENFILE'): void { this.reached(code, 0); }

  close(): void {
    clearInterval(this.timer);
    this.limitsFile.close();
  }

  /**
   * Opens and closes /dev/null, as an accept would take a descriptor: it fails exactly when an
   * accept would. (It read and parsed /proc/self/limits each second instead: 20-37 µs a probe
   * against 6-9 µs, bench/proxy/fd-probe.ts; the limit is now read only when a warning names it.)
   */
  private probe(): void {
    try { fs.closeSync(fs.openSync('/dev/null', 'r')); } catch (e) {
      const code = fdErrorCode(e);
      if (code) return this.reached(code, 0);
    }
    // Free now, and no connect refused since the last look: over.
    const h = this.bout.current;
    if (!h || Date.now() - h.lastAt < this.probeMs) return;
    this.bout.end();
    if (h.warned) this.log.info({ code: CODE, ms: h.lastAt - h.since, connectsFailed: h.count }, 'file descriptors free again: new connections are accepted');
  }

  private reached(code: string, connectsFailed: number): void {
    if (!this.bout.hit(Date.now(), connectsFailed)) return;
    const h = this.bout.current!;
    const read = this.limitsFile.read();
    if (read !== undefined) this.limit = read;
    const limit = this.limit;
    const msg = code === 'ENFILE'
      ? 'the system has no file descriptor left (ENFILE): new connections are closed as soon as they are accepted and requests that need a new connection to an app get 503 PROXY_OVERLOADED. Raise fs.file-max (sysctl) or find what holds them'
      : `this process has all ${limit ?? 'its'} file descriptors its limit allows open (RLIMIT_NOFILE, EMFILE): new connections are closed as soon as they are accepted and requests that need a new connection to an app get 503 PROXY_OVERLOADED. ` +
        'Each client connection holds one, each request being forwarded one more. Raise the limit: LimitNOFILE= in a systemd unit, ulimit -n in a shell, docker run --ulimit nofile=N:N or compose `ulimits: nofile:`';
    this.log.warn({ code: CODE, errno: code, limit, since: new Date(h.since).toISOString(), connectsFailed: h.count }, msg);
  }
}
