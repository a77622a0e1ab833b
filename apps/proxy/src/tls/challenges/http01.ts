// HTTP-01: the proxy answers GET /.well-known/acme-challenge/<token> with the key authorization
// (before routing, so the app never sees it). Tokens are kept in memory and in storage, so any
// proxy sharing the data dir answers the CA, whichever of them placed the order.
import type { TlsStorage } from '../storage.js';
import type { ChallengeSolver } from './types.js';

export class Http01Solver implements ChallengeSolver {
  readonly type = 'http-01' as const;
  private readonly tokens = new Map<string, string>();
  constructor(private readonly storage?: TlsStorage) {}

  async present(_name: string, token: string, keyAuthorization: string): Promise<void> {
    this.tokens.set(token, keyAuthorization);
    this.storage?.putToken(token, keyAuthorization);
  }

  async cleanup(_name: string, token: string): Promise<void> {
    this.tokens.delete(token);
    this.storage?.dropToken(token);
  }

  /** The body to answer for `token`, or undefined (→ 404). */
  answer(token: string): string | undefined {
    return this.tokens.get(token) ?? this.storage?.getToken(token);
  }
}
