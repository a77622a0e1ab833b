import type { FastifyInstance } from 'fastify';
import { AppDeploymentParams, AppParams } from '../http/schemas.js';
import type { Services } from '../services.js';

export function deploymentRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Params: { app: string } }>('/v1/apps/:app/deployments', { schema: { tags: ['deployments'], summary: 'List deployments, newest first', params: AppParams } }, async (req) => {
    s.store.apps.get(req.params.app);
    return { items: s.store.deployments.list(req.params.app) };
  });

  app.get<{ Params: { app: string; id: string } }>('/v1/apps/:app/deployments/:id', { schema: { tags: ['deployments'], summary: 'A deployment with its state history and build output', params: AppDeploymentParams } }, async (req) => {
    s.store.apps.get(req.params.app);
    return s.store.deployments.get(req.params.app, req.params.id);
  });
}
