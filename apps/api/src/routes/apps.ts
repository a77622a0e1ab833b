import type { FastifyInstance } from 'fastify';
import { assertBranchName, assertNewAppName } from '@dreamnet/core';
import { authorize } from '../auth/plugin.js';
import { AppParams, CreateApp, PatchApp } from '../http/schemas.js';
import { emptyToNull } from '../http/empty-is-null.js';
import { presentApp } from '../http/present.js';
import type { Services } from '../services.js';
import type { AppRow } from '../db/index.js';
import type { RouteOptions } from '../routing/table.js';
import { deleteApp } from '../deploy/delete-app.js';
import { PageQuery, decodeCursor, limitOf, toPage, type PageParams } from '../pagination/cursor.js';

export function appRoutes(app: FastifyInstance, s: Services): void {
  // Every route-table entry carries the app's own proxy settings (deployer and reconciler call set()).
  s.routes.options = (name) => routeOptions(s.store.apps.find(name));

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

  app.patch<{ Params: { app: string }; Body: AppChange }>('/v1/apps/:app', { schema: { tags: ['apps'], summary: 'Change deploy branch, health-check path or proxy settings (request body limit, request buffering)', params: AppParams, body: PatchApp } }, async (req) => {
    s.store.apps.get(req.params.app);
    const b = emptyToNull(PatchApp, req.body);
    const fields: Parameters<typeof s.store.apps.update>[1] = {};
    if (b.deployBranch !== undefined) fields.deploy_branch = assertBranchName(b.deployBranch);
    if (b.healthCheckPath !== undefined) fields.health_path = b.healthCheckPath;
    if (b.maxRequestBody !== undefined) fields.max_request_body = b.maxRequestBody;
    if (b.requestBuffering !== undefined) fields.request_buffering = b.requestBuffering === null ? null : Number(b.requestBuffering);
    const row = s.store.apps.update(req.params.app, fields);
    // Proxy settings reach the proxies with the next table version; no new release, no restart.
    if (b.maxRequestBody !== undefined || b.requestBuffering !== undefined) s.routes.refresh(row.name);
    return presentApp(s, row);
  });

  app.delete<{ Params: { app: string } }>('/v1/apps/:app', { schema: { tags: ['apps'], summary: 'Delete an app, its containers, releases and repository', params: AppParams }, config: { scope: 'admin' } }, async (req, reply) => {
    await deleteApp(s, req.params.app);
    return reply.status(204).send();
  });
}

interface AppChange { deployBranch?: string; healthCheckPath?: string | null; maxRequestBody?: number | null; requestBuffering?: boolean | null }

/** What the proxies are told of an app's own settings: only those it has. */
function routeOptions(row: AppRow | undefined): RouteOptions {
  const o: RouteOptions = {};
  if (row?.max_request_body != null) o.maxRequestBody = row.max_request_body;
  if (row?.request_buffering != null) o.requestBuffering = row.request_buffering === 1;
  return o;
}
