// Counts failed authentications per client address in fixed one-minute windows. Once an address is
// over the limit every request from it gets 429 until the window ends, valid token or not, so
// guessing cannot continue by interleaving a known-good token.
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly perMinute: number, private readonly windowMs = 60_000, private readonly maxAddresses = 100_000) {}

  blocked(addr: string, now = Date.now()): boolean {
    const w = this.windows.get(addr);
    if (!w) return false;
    if (now - w.start >= this.windowMs) { this.windows.delete(addr); return false; }
    return w.count >= this.perMinute;
  }

  fail(addr: string, now = Date.now()): void {
    const w = this.windows.get(addr);
    if (w && now - w.start < this.windowMs) { w.count++; return; }
    // Bounded memory under address-spraying: drop the oldest entry (Map keeps insertion order).
    if (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
    this.windows.delete(addr);
    this.windows.set(addr, { start: now, count: 1 });
  }
}
