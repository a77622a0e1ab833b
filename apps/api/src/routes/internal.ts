import type { FastifyInstance } from 'fastify';
import { RoutesAck, RoutesLeave, RoutesPoll } from '../http/schemas.js';
import type { Services } from '../services.js';

/** Routes only the platform's own processes call, with the internal token. */
export function internalRoutes(app: FastifyInstance, s: Services): void {
  // A held poll must not keep a stopping api waiting (http/closing.ts).
  app.addHook('preClose', async () => { s.routes.release(); });
  app.get<{ Querystring: { since?: number; wait?: number; proxy: string } }>('/v1/internal/routes', { schema: { tags: ['internal'], summary: 'Route table for proxies (long-poll)', querystring: RoutesPoll }, config: { auth: 'internal' } }, async (req) => {
    return s.routes.poll(req.query.proxy, req.query.since ?? 0, (req.query.wait ?? 0) * 1000);
  });

  app.post<{ Body: { proxy: string; version: number } }>('/v1/internal/routes/ack', { schema: { tags: ['internal'], summary: 'A proxy routes by this version and has drained removed endpoints', body: RoutesAck }, config: { auth: 'internal' } }, async (req, reply) => {
    s.routes.ack(req.body.proxy, req.body.version);
    return reply.status(204).send();
  });

  // A proxy that stopped serving: switches stop waiting for its ack at once instead of until its
  // TTL ends. An id the api does not know (it restarted, the proxy never polled) is fine: 204 too.
  app.post<{ Body: { proxy: string } }>('/v1/internal/routes/leave', { schema: { tags: ['internal'], summary: 'A proxy stopped serving: no route switch waits for its ack any more', body: RoutesLeave }, config: { auth: 'internal' } }, async (req, reply) => {
    s.routes.leave(req.body.proxy);
    return reply.status(204).send();
  });
}
