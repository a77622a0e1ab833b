// What an Exchange (exchange.ts) is given: the client connection that owns it (connection.ts) and
// the request it relays.
import type { Socket } from 'node:net';
import type { Page } from '../pages.js';
import type { Route } from '../table.js';
import type { ClientWriter } from './client-writer.js';
import type { Headers } from './head.js';

export interface ExchangeOwner {
  readonly socket: Socket;
  /** Writes to `socket` for the response side (one per connection). */
  readonly out: ClientWriter;
  /** The field a response that keeps the connection ends with (connection-field.ts). */
  readonly keepAlive: Buffer;
  /** Exactly once: the response went out (keepAlive: may carry another request; unreadBody: the client still sends a body nobody reads). */
  finished(keepAlive: boolean, status: number, bytes: number, upstream: string, unreadBody?: boolean): void;
  /** Exactly once instead of finished(): answer with the proxy's own page (`sentBefore`: bytes of 1xx responses already passed on). */
  answer(page: Page, unreadBody: boolean, sentBefore?: number): void;
  /**
   * Exactly once instead of finished(): the app broke off its answer after part of it went out
   * (`status`: the app's, `bytes`: what the client got); the client connection is cut.
   */
  broken(status: number, bytes: number, upstream: string): void;
}

export interface ExchangeRequest {
  method: string;
  /** The serialized upstream request head. */
  head: string;
  contentLength: number;
  clientClose: boolean;
  requestId: string;
  host: string;
  route: Route;
  headers: Headers;
}
