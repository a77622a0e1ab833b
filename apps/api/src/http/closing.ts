// Stopping the api (SIGTERM: a restart, an upgrade). fastify's close() waits for every open
// connection, and two kinds never ended on their own: a proxy's route long-poll (held up to 25 s)
// and a keep-alive connection that was busy when close began (fastify keeps them 72 s), so a stop
// outlived Docker's 10 s and ended in SIGKILL. While closing: held polls are answered at once
// (RouteTable.release, routes/internal.ts), every response closes its connection, and a request
// that still arrives gets API_STOPPING — catalogued, unlike fastify's own 503 body.
import { DreamError } from '@dreamnet/core';
import type { FastifyInstance } from 'fastify';

export function installClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => { closing = true; });
  app.addHook('onRequest', async () => { if (closing) throw new DreamError('API_STOPPING'); });
  app.addHook('onSend', async (req, reply) => { if (closing && req.raw.httpVersionMajor === 1) void reply.header('connection', 'close'); });
}
