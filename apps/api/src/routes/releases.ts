import type { FastifyInstance } from 'fastify';
import { DreamError } from '@dreamnet/core';
import { AppParams, Rollback } from '../http/schemas.js';
import type { Services } from '../services.js';
import { PageQuery, decodeCursor, limitOf, toPage, type PageParams } from '../pagination/cursor.js';

export function releaseRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Params: { app: string }; Querystring: PageParams }>('/v1/apps/:app/releases', { schema: { tags: ['releases'], summary: 'List releases, newest first (paginated)', params: AppParams, querystring: PageQuery } }, async (req) => {
    s.store.apps.get(req.params.app);
    const limit = limitOf(req.query);
    return toPage(s.store.releases.page(req.params.app, decodeCursor<number>(req.query.cursor, 'number'), limit + 1), limit, (r) => r.version, (r) => r);
  });

  // A rollback is a new release equal to release N: its image and its config (which also becomes
  // the app's config again, so the next change starts from what is running).
  app.post<{ Params: { app: string }; Body: { version: number } }>('/v1/apps/:app/rollback', { schema: { tags: ['releases'], summary: 'Roll back to a release (image and config)', params: AppParams, body: Rollback } }, async (req, reply) => {
    const row = s.store.apps.get(req.params.app);
    const target = s.store.releases.byVersion(row.name, req.body.version);
    if (target.id === row.current_release_id) throw new DreamError('VALIDATION_FAILED', `v${target.version} is already the current release.`);
    const config = s.store.releases.config(row.name, target.id);
    const { deployment, release } = await s.deployer.deployFrom(row.name, target, config, `Rollback to v${target.version}`);
    if (deployment.state === 'healthy') s.store.config.replace(row.name, config);
    return reply.status(201).send({ release, deployment });
  });
}
