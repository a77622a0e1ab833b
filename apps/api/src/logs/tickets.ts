// Browser WebSocket tickets: browsers cannot set headers on a WebSocket, so an authenticated REST
// call trades its token for a ticket that is short-lived, single-use and bound to one app and token.
import crypto from 'node:crypto';
import type { TokenRow } from '../db/index.js';

interface Ticket { app: string; token: TokenRow; expires: number }

export class Tickets {
  private readonly tickets = new Map<string, Ticket>();

  constructor(private readonly ttlMs = 30_000, private readonly now = () => Date.now()) {}

  issue(app: string, token: TokenRow): { ticket: string; expiresAt: string } {
    this.sweep();
    const ticket = `tkt_${crypto.randomBytes(24).toString('base64url')}`;
    const expires = this.now() + this.ttlMs;
    this.tickets.set(ticket, { app, token, expires });
    return { ticket, expiresAt: new Date(expires).toISOString() };
  }

  /** The token behind a ticket for `app`, consuming it; undefined when unknown, used, expired or for another app. */
  redeem(ticket: string, app: string): TokenRow | undefined {
    const t = this.tickets.get(ticket);
    // Deleted before any check: a ticket presented for the wrong app is burnt too.
    this.tickets.delete(ticket);
    if (!t || t.expires < this.now() || t.app !== app) return undefined;
    return t.token;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, t] of this.tickets) if (t.expires < now) this.tickets.delete(k);
  }
}
