import type { FastifyInstance } from 'fastify';
import { assertBranchName, assertNewAppName } from '@dreamnet/core';
import { authorize } from '../auth/plugin.js';
import { AppParams, CreateApp, PatchApp } from '../http/schemas.js';
import { emptyToNull } from '../http/empty-is-null.js';
import { presentApp } from '../http/present.js';
import type { Services } from '../services.js';
import { deleteApp } from '../deploy/delete-app.js';
import { PageQuery, decodeCursor, limitOf, toPage, type PageParams } from '../pagination/cursor.js';

export function appRoutes(app: FastifyInstance, s: Services): void {
  app.post<{ Body: { name: string; deployBranch?: string } }>('/v1/apps', { schema: { tags: ['apps'], summary: 'Create an app', body: CreateApp } }, async (req, reply) => {
    const name = assertNewAppName(req.body.name);
    // The app is named in the body, not the URL: a token limited to apps may create only those.
    authorize(req.token!, name, 'deploy');
    const branch = assertBranchName(req.body.deployBranch ?? 'main');
    const row = s.store.apps.create(name, branch);
    s.git.init(name);
    return reply.status(201).send(presentApp(s, row));
  });

  app.get<{ Querystring: PageParams }>('/v1/apps', { schema: { tags: ['apps'], summary: 'List apps (by name, paginated)', querystring: PageQuery } }, async (req) => {
    const limit = limitOf(req.query);
    const rows = s.store.apps.page(decodeCursor<string>(req.query.cursor, 'string'), limit + 1, req.token?.apps ?? null);
    return toPage(rows, limit, (r) => r.name, (r) => presentApp(s, r, s.reconciler.lastStatus.get(r.name)));
  });

  app.get<{ Params: { app: string } }>('/v1/apps/:app', { schema: { tags: ['apps'], summary: 'Get an app with its live status', params: AppParams } }, async (req) => {
    const row = s.store.apps.get(req.params.app);
    const status = await s.target.status(row.name).catch(() => undefined);
    return presentApp(s, row, status);
  });

  app.patch<{ Params: { app: string }; Body: { deployBranch?: string; healthCheckPath?: string | null } }>('/v1/apps/:app', { schema: { tags: ['apps'], summary: 'Change deploy branch or health-check path', params: AppParams, body: PatchApp } }, async (req) => {
    s.store.apps.get(req.params.app);
    const b = emptyToNull(PatchApp, req.body);
    const fields: { deploy_branch?: string; health_path?: string | null } = {};
    if (b.deployBranch !== undefined) fields.deploy_branch = assertBranchName(b.deployBranch);
    if (b.healthCheckPath !== undefined) fields.health_path = b.healthCheckPath;
    return presentApp(s, s.store.apps.update(req.params.app, fields));
  });

  app.delete<{ Params: { app: string } }>('/v1/apps/:app', { schema: { tags: ['apps'], summary: 'Delete an app, its containers, releases and repository', params: AppParams }, config: { scope: 'admin' } }, async (req, reply) => {
    await deleteApp(s, req.params.app);
    return reply.status(204).send();
  });
}
