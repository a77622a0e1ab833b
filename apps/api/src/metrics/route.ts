// GET /metrics (Prometheus text format). Authenticated like every route: a bearer token with `read`
// scope not limited to apps (the figures cover every app). Point Prometheus at it with
// `authorization: { credentials_file: … }` holding a read token made by `dream tokens create`.
import type { FastifyInstance } from 'fastify';
import { DreamError } from '@dreamnet/core';
import type { Services } from '../services.js';
import { createMetrics } from './registry.js';

export function metricsRoutes(app: FastifyInstance, s: Services): void {
  const m = createMetrics(app, s.store, s.reconciler);
  app.addHook('onResponse', async (req, reply) => {
    // Route patterns, never raw URLs: label values stay bounded whatever clients send.
    const route = req.routeOptions.url ?? 'unmatched';
    m.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    m.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { tags: ['meta'], summary: 'Prometheus metrics (read scope, token not limited to apps)' }, config: { scope: 'read' } }, async (req, reply) => {
    if (req.token!.apps) throw new DreamError('FORBIDDEN', 'Metrics cover every app; use a token that is not limited to apps.');
    return reply.header('content-type', m.registry.contentType).send(await m.registry.metrics());
  });
}
