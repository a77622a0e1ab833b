// Authentication and authorization of socket routes, run as the route's onRequest hook — before
// any upgrade: a CLI sends `Authorization`, a browser `?ticket=`. Both are checked against the app
// the URL names; a refusal is an ordinary HTTP 401/403 answer and the socket never opens.
import type { FastifyRequest } from 'fastify';
import { DreamError } from '@dreamnet/core';
import { appParam, authorize, presentedToken } from '../auth/plugin.js';
import type { Scope, TokensRepo } from '../db/index.js';
import type { Tickets } from './tickets.js';

export function socketAuth(deps: { tokens: TokensRepo; tickets: Tickets }, scope: Scope) {
  return async (req: FastifyRequest): Promise<void> => {
    // The same per-address limit as every other route (auth/limiter.ts): blocked, then counted.
    if (req.server.authFailures.blocked(req.ip)) throw new DreamError('RATE_LIMITED');
    const app = appParam(req);
    if (!app) throw new DreamError('FORBIDDEN');
    const ticket = (req.query as { ticket?: string } | undefined)?.ticket;
    const presented = presentedToken(req);
    const token = ticket !== undefined ? deps.tickets.redeem(ticket, app) : presented ? deps.tokens.verify(presented) : undefined;
    // A wrong token or ticket counts against the address like one on any other route.
    if (!token && (ticket !== undefined || presented)) req.server.authFailures.fail(req.ip);
    if (!token) throw new DreamError('UNAUTHENTICATED', ticket !== undefined ? 'The ticket is unknown, used, expired or for another app; ask for a new one.' : undefined);
    authorize(token, app, scope);
    req.token = token;
  };
}
