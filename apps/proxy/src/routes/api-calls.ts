// What the proxy tells the api besides polling: acks (retried until the api takes them: a switch
// waits for them) and, when it stops, its goodbye (one attempt: a stopping proxy does not wait for
// an api that is down; the api forgets a silent proxy after its TTL, 60 s, anyway).
import type { Logger } from 'pino';
import { apiRequest } from '../api-request.js';

/** How long a stopping proxy gives the api to take its goodbye. */
const LEAVE_TIMEOUT_MS = 2000;

export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });

export interface ApiCallOptions { apiUrl: string; token: string; log: Logger; backoffMinMs?: number; backoffMaxMs?: number }

export class ApiCalls {
  private left = false;

  constructor(private readonly o: ApiCallOptions, private readonly proxyId: string, private readonly stop: AbortSignal) {}

  private post(path: string, body: object, signal: AbortSignal) {
    return apiRequest(`${this.o.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
  }

  /** POST /v1/internal/routes/ack until the api takes it; false when stopped or refused for good. */
  async ack(version: number): Promise<boolean> {
    let delay = this.o.backoffMinMs ?? 200;
    let failures = 0;
    while (!this.stop.aborted) {
      try {
        const res = await this.post('/v1/internal/routes/ack', { proxy: this.proxyId, version }, AbortSignal.any([this.stop, AbortSignal.timeout(10_000)]));
        if (res.ok) { this.o.log.info({ version, ...(failures ? { failures } : {}) }, 'routes acked'); return true; }
        // A 4xx other than timeouts/throttling will not get better by retrying.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          this.o.log.error({ version, status: res.status }, 'api refused the routes ack');
          return false;
        }
        throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        if (this.stop.aborted) return false;
        // The first failure says so; the retries are quiet (the api being down is logged by the poll).
        if (failures++ === 0) this.o.log.warn({ version, err: (e as Error).message, retryInMs: delay }, 'routes ack failed; retrying until the api takes it');
        await sleep(delay, this.stop);
        delay = Math.min(this.o.backoffMaxMs ?? 5000, delay * 2);
      }
    }
    return false;
  }

  /**
   * POST /v1/internal/routes/leave, once: called only when this proxy serves nothing any more, so
   * the api may stop waiting for its acks at once.
   */
  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    const signal = AbortSignal.timeout(LEAVE_TIMEOUT_MS);
    const leave = () => this.post('/v1/internal/routes/leave', { proxy: this.proxyId }, signal);
    try {
      // Once more, within the same 2 s, when the connection failed before any answer: node's agent
      // keeps connections alive, and one the api closed just then fails at once (ECONNRESET, socket
      // hang up) — lost, every deploy of the next 60 s waited for this gone proxy. A goodbye said
      // twice is harmless.
      const res = await leave().catch((e: unknown) => { if (signal.aborted) throw e; return leave(); });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.o.log.info({ proxyId: this.proxyId }, 'said goodbye to the api: route switches no longer wait for this proxy');
    } catch (e) {
      this.o.log.warn({ proxyId: this.proxyId, err: (e as Error).message }, 'could not say goodbye to the api; route switches wait for this proxy until it expires (60 s)');
    }
  }
}
