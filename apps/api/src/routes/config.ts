import type { FastifyInstance } from 'fastify';
import { DreamError, assertConfigKey } from '@dreamnet/core';
import { scopeReaches } from '../auth/plugin.js';
import { AppParams, PatchConfig } from '../http/schemas.js';
import type { Services } from '../services.js';

export function configRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Params: { app: string } }>('/v1/apps/:app/config', { schema: { tags: ['config'], summary: 'List config var names, and fingerprints for deploy/admin tokens (values are never returned)', params: AppParams } }, async (req) => {
    s.store.apps.get(req.params.app);
    const items = s.store.config.list(req.params.app);
    // A fingerprint (unsalted SHA-256, core/crypto.ts) lets its holder test guesses of a weak value
    // offline. Only tokens that may change config — and so could deploy code printing it — see them.
    return { items: scopeReaches(req.token, 'deploy') ? items : items.map(({ key, updatedAt }) => ({ key, updatedAt })) };
  });

  app.patch<{ Params: { app: string }; Body: { set?: Record<string, string>; unset?: string[] } }>('/v1/apps/:app/config', { schema: { tags: ['config'], summary: 'Set and unset config vars; makes a new release when the app has one', params: AppParams, body: PatchConfig } }, async (req) => {
    const row = s.store.apps.get(req.params.app);
    const set = req.body.set ?? {};
    const unset = req.body.unset ?? [];
    for (const k of [...Object.keys(set), ...unset]) assertConfigKey(k);
    if (!Object.keys(set).length && !unset.length) throw new DreamError('VALIDATION_FAILED', 'Nothing to change: give `set` and/or `unset`.');
    s.store.config.apply(row.name, set, unset);
    const items = s.store.config.list(row.name);
    if (!row.current_release_id) return { items };
    const base = s.store.releases.get(row.name, row.current_release_id);
    const what = [...Object.keys(set).map((k) => `set ${k}`), ...unset.map((k) => `unset ${k}`)].join(', ');
    const { deployment, release } = await s.deployer.deployFrom(row.name, base, s.store.config.values(row.name), `Config: ${what}`);
    return { items, release, deployment };
  });
}
