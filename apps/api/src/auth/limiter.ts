// Counts failed authentications per client in fixed one-minute windows. Once a client is over the
// limit every request from it gets 429 until the window ends, valid token or not, so guessing
// cannot continue by interleaving a known-good token. The client is clientKey(req.ip): an IPv4
// address, or an IPv6 /64 (see client-key.ts) — every caller (REST, git, webhooks, sockets) passes
// req.ip and gets the same key.
import { clientKey } from './client-key.js';

export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly perMinute: number, private readonly windowMs = 60_000, private readonly maxClients = 100_000) {}

  /** Clients currently remembered (at most maxClients). */
  get size(): number { return this.windows.size; }

  blocked(ip: string, now = Date.now()): boolean {
    const key = clientKey(ip);
    const w = this.windows.get(key);
    if (!w) return false;
    if (now - w.start >= this.windowMs) { this.windows.delete(key); return false; }
    return w.count >= this.perMinute;
  }

  fail(ip: string, now = Date.now()): void {
    const key = clientKey(ip);
    const w = this.windows.get(key);
    if (w && now - w.start < this.windowMs) { w.count++; return; }
    // Bounded memory under address-spraying: drop the oldest window (Map keeps insertion order, and
    // a new window is re-inserted, so the first entry is the one that started longest ago).
    this.windows.delete(key);
    if (this.windows.size >= this.maxClients) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, { start: now, count: 1 });
  }
}
