// Scoped API tokens: create (the secret is in this one answer only; stored as a hash), list (never
// secrets; with last-used time), revoke. Managing tokens needs an admin token not limited to apps.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DreamError, assertAppName } from '@dreamnet/core';
import type { Scope } from '../db/index.js';
import { PageQuery, decodeCursor, limitOf, toPage, type PageParams } from '../pagination/cursor.js';
import type { Services } from '../services.js';

const CreateToken = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 _.@:-]*$', description: 'What the token is for (e.g. ci-deploy)' }),
  scope: Type.Union([Type.Literal('read'), Type.Literal('deploy'), Type.Literal('admin')], { description: 'read < deploy < admin; see docs/scopes.md' }),
  apps: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 200 }), { minItems: 1, maxItems: 500 }), Type.Null()], { description: 'Only these apps (default: all)' })),
}, { additionalProperties: false });
const TokenParams = Type.Object({ id: Type.String({ pattern: '^tok_[a-f0-9]{12}$' }) });

function unrestricted(req: FastifyRequest): void {
  if (req.token!.apps) throw new DreamError('FORBIDDEN', 'Managing tokens needs an admin token that is not limited to apps.');
}

export function tokenRoutes(app: FastifyInstance, s: Services): void {
  const admin = { scope: 'admin' as const };

  app.post<{ Body: { name: string; scope: Scope; apps?: string[] | null } }>('/v1/tokens', { schema: { tags: ['tokens'], summary: 'Create a token; the secret is shown once', body: CreateToken }, config: admin }, async (req, reply) => {
    unrestricted(req);
    const apps = req.body.apps ? [...new Set(req.body.apps.map(assertAppName))] : null;
    const { token, row } = s.store.tokens.create(req.body.name, req.body.scope, apps);
    return reply.status(201).send({ ...row, token });
  });

  app.get<{ Querystring: PageParams }>('/v1/tokens', { schema: { tags: ['tokens'], summary: 'List tokens (never their secrets), oldest first', querystring: PageQuery }, config: admin }, async (req) => {
    unrestricted(req);
    const limit = limitOf(req.query);
    return toPage(s.store.tokens.page(decodeCursor<number>(req.query.cursor, 'number'), limit + 1), limit, (t) => t.seq, ({ seq: _seq, ...t }) => t);
  });

  app.delete<{ Params: { id: string } }>('/v1/tokens/:id', { schema: { tags: ['tokens'], summary: 'Revoke a token (it stops working at once)', params: TokenParams }, config: admin }, async (req, reply) => {
    unrestricted(req);
    if (!s.store.tokens.revoke(req.params.id)) throw new DreamError('TOKEN_NOT_FOUND', `No token ${req.params.id}. List tokens with \`dream tokens\`.`);
    return reply.status(204).send();
  });
}
