import type { FastifyInstance } from 'fastify';
import { DreamError } from '@dreamnet/core';
import { AppParams, Scale } from '../http/schemas.js';
import type { Services } from '../services.js';

export function actionRoutes(app: FastifyInstance, s: Services): void {
  app.post<{ Params: { app: string }; Body: { replicas: number } }>('/v1/apps/:app/scale', { schema: { tags: ['apps'], summary: 'Set the number of replicas', params: AppParams, body: Scale } }, async (req) => {
    const row = s.store.apps.get(req.params.app);
    const before = row.replicas;
    s.store.apps.update(row.name, { replicas: req.body.replicas });
    if (!row.current_release_id) return { app: row.name, replicas: req.body.replicas };
    const deployment = await s.deployer.reapply(row.name, `Scale ${before} → ${req.body.replicas}`);
    if (deployment.state !== 'healthy') s.store.apps.update(row.name, { replicas: before });
    return { app: row.name, replicas: s.store.apps.get(row.name).replicas, deployment };
  });

  // Restart = a new release identical to the current one, so replicas are replaced with the same
  // zero-downtime switch as a deploy.
  app.post<{ Params: { app: string } }>('/v1/apps/:app/restart', { schema: { tags: ['apps'], summary: 'Replace every replica, without downtime', params: AppParams } }, async (req) => {
    const row = s.store.apps.get(req.params.app);
    if (!row.current_release_id) throw new DreamError('NO_RELEASE');
    const base = s.store.releases.get(row.name, row.current_release_id);
    const { deployment } = await s.deployer.deployFrom(row.name, base, s.store.releases.config(row.name, base.id), `Restart of v${base.version}`);
    return { deployment };
  });
}
