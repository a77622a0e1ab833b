// Tells the api how certificates are doing (POST /v1/internal/certs/status), so `dream domains`
// shows issued/renewing/failing with the CA's reason. Debounced on change, repeated every minute
// so a restarted api catches up; failures are ignored (the api being down must not matter here).
import type { Logger } from 'pino';
import { apiRequest } from '../api-request.js';
import type { CertStatus } from './types.js';

export class StatusReporter {
  private pending?: NodeJS.Timeout;
  private readonly every: NodeJS.Timeout;
  constructor(private readonly o: { apiUrl: string; token: string; proxyId: string; status: () => CertStatus[]; log?: Logger; debounceMs?: number; everyMs?: number }) {
    this.every = setInterval(() => void this.send(), o.everyMs ?? 60_000);
    this.every.unref();
  }

  changed(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => { this.pending = undefined; void this.send(); }, this.o.debounceMs ?? 300);
    this.pending.unref();
  }

  async send(): Promise<void> {
    try {
      const res = await apiRequest(`${this.o.apiUrl}/v1/internal/certs/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.o.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ proxy: this.o.proxyId, certs: this.o.status() }),
        signal: AbortSignal.timeout(5000),
      });
      // Refused (not unreachable): dream domains would go on showing what was reported before.
      if (!res.ok) this.o.log?.warn({ status: res.status, answer: res.body.slice(0, 500) }, 'certificate status refused by the api; dream domains shows an older state');
    } catch (e) {
      this.o.log?.debug({ err: (e as Error).message }, 'certificate status not reported (api unreachable)');
    }
  }

  close(): void { clearInterval(this.every); if (this.pending) clearTimeout(this.pending); }
}
