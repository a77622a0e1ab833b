import type { FastifyInstance } from 'fastify';
import { RoutesAck, RoutesPoll } from '../http/schemas.js';
import type { Services } from '../services.js';

/** Routes only the platform's own processes call, with the internal token. */
export function internalRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: { since?: number; wait?: number; proxy: string } }>('/v1/internal/routes', { schema: { tags: ['internal'], summary: 'Route table for proxies (long-poll)', querystring: RoutesPoll }, config: { auth: 'internal' } }, async (req) => {
    return s.routes.poll(req.query.proxy, req.query.since ?? 0, (req.query.wait ?? 0) * 1000);
  });

  app.post<{ Body: { proxy: string; version: number } }>('/v1/internal/routes/ack', { schema: { tags: ['internal'], summary: 'A proxy routes by this version and has drained removed endpoints', body: RoutesAck }, config: { auth: 'internal' } }, async (req, reply) => {
    s.routes.ack(req.body.proxy, req.body.version);
    return reply.status(204).send();
  });
}
