// Every route is authenticated unless it says `config: { auth: 'public' }`; routes naming an app are
// authorized for that app. Internal routes (proxy, git hooks) take the internal token instead.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DreamError, assertAppName, safeEqual } from '@dreamnet/core';
import type { Scope, TokenRow, TokensRepo } from '../db/index.js';

import { FailureLimiter } from './limiter.js';

/** 'webhook' routes authenticate each delivery by its signature, in the route (see webhooks/);
 * 'socket' routes (WebSocket upgrades) with a token or a ticket, in the route (logs/socket-auth.ts). */
export type AuthMode = 'public' | 'internal' | 'push' | 'user' | 'webhook' | 'socket';
declare module 'fastify' {
  interface FastifyContextConfig { auth?: AuthMode; scope?: Scope }
  interface FastifyRequest { token?: TokenRow; pushApp?: string }
  interface FastifyInstance { authFailures: FailureLimiter }
}

const RANK: Record<Scope, number> = { read: 1, deploy: 2, admin: 3 };

/** Bearer token, or the password of HTTP Basic (what git sends). */
export function presentedToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const [kind, value] = h.split(' ', 2);
  if (!value) return undefined;
  if (kind?.toLowerCase() === 'bearer') return value.trim();
  if (kind?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i >= 0 ? decoded.slice(i + 1) : undefined;
  }
  return undefined;
}

/** Does this token's scope reach `scope`? (For what a route shows, not whether it runs.) */
export function scopeReaches(token: TokenRow | undefined, scope: Scope): boolean {
  return token !== undefined && RANK[token.scope] >= RANK[scope];
}

export function authorize(token: TokenRow, app: string | undefined, scope: Scope): void {
  if (RANK[token.scope] < RANK[scope]) throw new DreamError('FORBIDDEN', `This token has scope "${token.scope}"; this needs "${scope}".`);
  if (app && token.apps && !token.apps.includes(app)) throw new DreamError('FORBIDDEN', `This token may not access app "${app}".`);
}

export function installAuth(app: FastifyInstance, deps: { tokens: TokensRepo; internalToken: string; pushTokenApp: (token: string) => string | undefined; failuresPerMinute?: number }): void {
  // req.ip is the socket address unless DREAM_TRUSTED_PROXIES names the peer (fastify trustProxy).
  const limiter = new FailureLimiter(deps.failuresPerMinute ?? 20);
  app.decorate('authFailures', limiter);
  const invalid = (req: FastifyRequest) => { limiter.fail(req.ip); return new DreamError('UNAUTHENTICATED'); };
  app.addHook('onRequest', async (req, reply) => {
    const cfg = req.routeOptions.config ?? {};
    const mode: AuthMode = cfg.auth ?? 'user';
    if (mode === 'public' || !req.routeOptions.url) return;
    // Machine routes (proxy, git hooks) are not blocked: a noisy neighbour on loopback must not cut
    // the proxy off from its routes; their tokens are 256-bit random, beyond guessing anyway.
    // Socket routes check the limit in their own hook: thrown here, before the websocket plugin has
    // marked the request, the refused upgrade's socket would never be closed.
    if (mode === 'socket') return;
    if ((mode === 'user' || mode === 'webhook') && limiter.blocked(req.ip)) throw new DreamError('RATE_LIMITED');
    if (mode === 'webhook') return;
    // git asks for credentials only after a 401 that carries a Basic challenge.
    if (req.url.startsWith('/git/')) void reply.header('www-authenticate', 'Basic realm="DreamNet", charset="UTF-8"');
    const presented = presentedToken(req);
    // No credentials at all is how git starts every push; only wrong ones count as failures.
    if (!presented) throw new DreamError('UNAUTHENTICATED');
    if (mode === 'internal') {
      if (!safeEqual(presented, deps.internalToken)) throw invalid(req);
      return;
    }
    if (mode === 'push') {
      req.pushApp = deps.pushTokenApp(presented);
      if (!req.pushApp) throw invalid(req);
      return;
    }
    const token = deps.tokens.verify(presented);
    if (!token) throw invalid(req);
    req.token = token;
    const appName = appParam(req);
    authorize(token, appName, cfg.scope ?? (req.method === 'GET' ? 'read' : 'deploy'));
  });
}

/** The app a request touches: `:app`, or `:repo` of a git URL (`<app>.git`). */
export function appParam(req: FastifyRequest): string | undefined {
  const params = req.params as { app?: string; repo?: string } | undefined;
  if (params?.app !== undefined) return assertAppName(params.app);
  if (params?.repo !== undefined) return assertAppName(params.repo.replace(/\.git$/, ''));
  return undefined;
}
