import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DreamError } from '@dreamnet/core';
import { authorize } from '../auth/plugin.js';
import { AppDeploymentParams, AppParams } from '../http/schemas.js';
import type { Services } from '../services.js';
import { PageQuery, decodeCursor, limitOf, toPage, type PageParams } from '../pagination/cursor.js';

export function deploymentRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Params: { app: string }; Querystring: PageParams }>('/v1/apps/:app/deployments', { schema: { tags: ['deployments'], summary: 'List deployments, newest first (paginated)', params: AppParams, querystring: PageQuery } }, async (req) => {
    s.store.apps.get(req.params.app);
    const limit = limitOf(req.query);
    return toPage(s.store.deployments.page(req.params.app, null, decodeCursor<number>(req.query.cursor, 'number'), limit + 1), limit, (d) => d.seq, ({ seq: _seq, ...d }) => d);
  });

  app.get<{ Params: { app: string; id: string } }>('/v1/apps/:app/deployments/:id', { schema: { tags: ['deployments'], summary: 'A deployment with its state history and build output', params: AppDeploymentParams } }, async (req) => {
    s.store.apps.get(req.params.app);
    return s.store.deployments.get(req.params.app, req.params.id);
  });

  // Across apps, for clients that keep only a deployment id (the deployment-core provider).
  app.get<{ Querystring: PageParams }>('/v1/deployments', { schema: { tags: ['deployments'], summary: 'Deployments of every app the token may read, newest first (paginated)', querystring: PageQuery } }, async (req) => {
    const limit = limitOf(req.query);
    return toPage(s.store.deployments.page(null, req.token!.apps, decodeCursor<number>(req.query.cursor, 'number'), limit + 1), limit, (d) => d.seq, ({ seq: _seq, ...d }) => d);
  });

  app.get<{ Params: { id: string } }>('/v1/deployments/:id', { schema: { tags: ['deployments'], summary: 'A deployment by id alone', params: Type.Object({ id: AppDeploymentParams.properties.id }) } }, async (req) => {
    const dep = s.store.deployments.findById(req.params.id);
    const notFound = new DreamError('DEPLOYMENT_NOT_FOUND', `No deployment ${req.params.id}.`);
    if (!dep) throw notFound;
    try { authorize(req.token!, dep.app, 'read'); } catch { throw notFound; } // don't confirm ids of other apps
    return dep;
  });
}
