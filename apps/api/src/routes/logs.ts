// Logs: GET /v1/apps/:app/logs — a WebSocket tail (upgrade) or the same history as NDJSON; build
// output of one deployment; tickets for browsers. Socket routes authenticate in their own
// onRequest hook (header or ticket) before any upgrade; see logs/socket-auth.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { AppDeploymentParams, AppParams } from '../http/schemas.js';
import type { Services } from '../services.js';
import { logService } from '../logs/service.js';
import { socketAuth } from '../logs/socket-auth.js';
import { parseLogQuery, type LogRequest } from '../logs/query.js';
import { streamToSocket } from '../logs/tail.js';
import { writeNdjson } from '../logs/ndjson.js';
import { shellRoutes } from './shell.js';

export function logRoutes(app: FastifyInstance, s: Services): void {
  const logs = logService(s);
  app.addHook('onReady', async () => { logs.start(); });
  app.addHook('onClose', async () => { logs.stop(); });

  app.post<{ Params: { app: string } }>('/v1/apps/:app/tickets', {
    config: { scope: 'read' },
    schema: { tags: ['logs'], summary: 'A single-use, 30-second ticket for a browser WebSocket (logs, shell, run) of this app', params: AppParams },
  }, async (req, reply) => {
    s.store.apps.get(req.params.app);
    return reply.status(201).send(logs.tickets.issue(req.params.app, req.token!));
  });

  app.get<{ Params: { app: string; id: string } }>('/v1/apps/:app/deployments/:id/logs', {
    schema: { tags: ['logs'], summary: 'Build and rollout output of one deployment as NDJSON', params: AppDeploymentParams },
  }, async (req, reply) => {
    s.store.apps.get(req.params.app);
    s.store.deployments.get(req.params.app, req.params.id);
    const q = parseLogQuery({ source: 'build', deployment: req.params.id });
    reply.hijack();
    await writeNdjson(reply.raw, logs.store, req.params.app, q);
  });

  // Socket routes live in a child scope with the websocket plugin (its route hook wraps only them).
  void app.register(async (scope) => {
    await scope.register(websocket, { options: { maxPayload: 1024 * 1024 } });
    const queries = new WeakMap<FastifyRequest, LogRequest>();
    const readAuth = socketAuth({ get tokens() { return s.store.tokens; }, tickets: logs.tickets }, 'read');
    scope.route<{ Params: { app: string }; Querystring: Record<string, string> }>({
      method: 'GET',
      url: '/v1/apps/:app/logs',
      config: { auth: 'socket' }, // authenticated by readAuth below: the header or a ticket
      onRequest: readAuth,
      schema: { tags: ['logs'], summary: 'Log lines: a WebSocket tail (follow, tail, since, source, replica) or NDJSON history', params: AppParams },
      // Before the upgrade: an unknown app or a bad query is an HTTP error, not a socket.
      preHandler: async (req) => {
        s.store.apps.get(req.params.app);
        queries.set(req, parseLogQuery(req.query));
      },
      handler: async (req, reply) => {
        reply.hijack();
        await writeNdjson(reply.raw, logs.store, req.params.app, { ...queries.get(req)!, follow: false });
      },
      wsHandler: (socket, req) => {
        streamToSocket(socket, logs.store, req.params.app, queries.get(req)!, { queueBytes: s.config.wsQueueBytes, pingMs: s.config.wsPingMs, idleMs: s.config.wsIdleMs });
      },
    });
    shellRoutes(scope, s, logs);
  });
}
