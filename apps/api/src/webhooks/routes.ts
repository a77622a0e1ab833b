// Git webhooks in (GitHub, GitLab, Gitea push events → fetch that commit → deploy) and the per-app
// settings for them and for outbound notifications. A webhook is off until the app has a secret.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DreamError, assertAppName, isDreamError } from '@dreamnet/core';
import type { Deployment } from '../db/index.js';
import { emptyOrNull, emptyToNull } from '../http/empty-is-null.js';
import { AppParams } from '../http/schemas.js';
import type { Services } from '../services.js';
import { fetchCommit } from './fetch.js';
import { installNotifier } from './notify.js';
import { allowedSchemes, assertRepoUrl, isDeployRef } from './repo-url.js';
import { FORGES, deliveryOf, parsePush, signatureOf, verifySignature, type Forge } from './verify.js';

// "" means off, as null does (http/empty-is-null.ts): an empty secret must never mean "accept everything".
const Secret = emptyOrNull(Type.String({ minLength: 16, maxLength: 200 }));
const PutHooks = Type.Object({
  secret: Type.Optional(Secret),
  repoUrl: Type.Optional(emptyOrNull(Type.String({ maxLength: 2000 }))),
  notifyUrl: Type.Optional(emptyOrNull(Type.String({ maxLength: 2000, pattern: '^https?://' }))),
  notifySecret: Type.Optional(Secret),
}, { additionalProperties: false });
type PutHooksBody = { secret?: string | null; repoUrl?: string | null; notifyUrl?: string | null; notifySecret?: string | null };

function present(s: Services, app: string) {
  const h = s.store.hooks.get(app);
  return {
    webhook: {
      enabled: Boolean(h.secret), repoUrl: h.repoUrl,
      endpoints: Object.fromEntries(FORGES.map((f) => [f, `${s.config.publicApiUrl}/v1/apps/${app}/webhooks/${f}`])),
    },
    notifications: { enabled: Boolean(h.notifyUrl && h.notifySecret), url: h.notifyUrl },
  };
}

async function receive(s: Services, app: FastifyInstance, forge: Forge, req: FastifyRequest<{ Params: { app: string } }>) {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  // Unsigned = unauthenticated, like a request without a token (counted as an auth failure).
  if (!signatureOf(req.headers, forge)) { app.authFailures.fail(req.ip); throw new DreamError('UNAUTHENTICATED', `This ${forge} webhook delivery carries no signature; set the app's webhook secret in ${forge}.`); }
  const row = s.store.apps.find(assertAppName(req.params.app));
  const hooks = row ? s.store.hooks.get(row.name) : undefined;
  if (!row || !hooks?.secret) throw new DreamError('WEBHOOK_DISABLED');
  try { verifySignature(forge, req.headers, body, hooks.secret); } catch (e) { app.authFailures.fail(req.ip); throw e; }
  const delivery = deliveryOf(forge, req.headers);
  if (!s.store.hooks.recordDelivery(row.name, delivery.id)) throw new DreamError('WEBHOOK_REPLAYED', `Delivery ${delivery.id} was already received.`);
  if (delivery.kind !== 'push') return { status: 200, body: { ignored: `${delivery.event || 'unnamed'} events do not deploy` } };
  const push = parsePush(forge, body);
  if (!isDeployRef(push.ref, row.deploy_branch)) return { status: 200, body: { ignored: `${push.ref} is not the deploy branch (refs/heads/${row.deploy_branch})` } };
  if (/^0+$/.test(push.after)) return { status: 200, body: { ignored: 'the branch was deleted' } };
  const schemes = allowedSchemes(s.config.webhookGitSchemes);
  const source = hooks.repoUrl ?? push.cloneUrl;
  if (!source) throw new DreamError('REPO_URL_NOT_ALLOWED', 'Neither the app (repoUrl) nor the payload names a repository URL.');
  let fetched;
  try {
    fetched = await fetchCommit(assertRepoUrl(source, schemes), row.deploy_branch, push.after, schemes);
  } catch (e) {
    // Let the forge's redelivery of this same delivery try again.
    if (isDreamError(e) && e.code === 'FETCH_FAILED') s.store.hooks.forgetDelivery(row.name, delivery.id);
    throw e;
  }
  let queued: Deployment | undefined;
  void s.deployer.deploySource(row.name, {
    context: fetched.archive, gitSha: fetched.sha, description: `Webhook push (${forge}) of ${fetched.sha.slice(0, 7)}`,
    onQueued: (d) => { queued = d; },
  }).catch((err) => req.log.error({ err }, 'webhook deployment failed')).finally(fetched.cleanup);
  return { status: 202, body: queued! };
}

export function webhookRoutes(app: FastifyInstance, s: Services): void {
  installNotifier(app, s.store, s.log);

  app.get<{ Params: { app: string } }>('/v1/apps/:app/hooks', { schema: { tags: ['webhooks'], summary: 'Webhook and notification settings (secrets are never shown)', params: AppParams } }, async (req) => {
    s.store.apps.get(req.params.app);
    return present(s, req.params.app);
  });

  app.put<{ Params: { app: string }; Body: PutHooksBody }>('/v1/apps/:app/hooks', {
    schema: { tags: ['webhooks'], summary: 'Set the webhook secret (null = off), repository URL, notification URL and its signing secret', params: AppParams, body: PutHooks },
    config: { scope: 'admin' },
  }, async (req) => {
    const row = s.store.apps.get(req.params.app);
    const b = emptyToNull(PutHooks, req.body);
    if (b.repoUrl) assertRepoUrl(b.repoUrl, allowedSchemes(s.config.webhookGitSchemes));
    s.store.hooks.set(row.name, b);
    return present(s, row.name);
  });

  // Signatures are over the exact bytes sent, so these routes keep the raw body (own parser scope).
  void app.register(async (child) => {
    child.removeContentTypeParser('application/json');
    child.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: s.config.maxBodyBytes }, (_req, body, done) => done(null, body));
    for (const forge of FORGES) {
      child.post<{ Params: { app: string } }>(`/v1/apps/:app/webhooks/${forge}`, {
        schema: { tags: ['webhooks'], summary: `${forge} push webhook (verified with the app's webhook secret)`, params: AppParams, security: [] },
        config: { auth: 'webhook' },
      }, async (req, reply) => {
        const r = await receive(s, app, forge, req);
        return reply.status(r.status).send(r.body);
      });
    }
  });
}
