import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';

export function metaRoutes(app: FastifyInstance, _s: Services): void {
  app.get('/healthz', { schema: { tags: ['meta'], summary: 'Liveness' }, config: { auth: 'public' } }, async () => ({ ok: true }));
  app.get('/v1/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());
  app.get('/v1/whoami', { schema: { tags: ['meta'], summary: 'The token this request used' } }, async (req) => ({
    name: req.token!.name, scope: req.token!.scope, apps: req.token!.apps,
  }));
}
