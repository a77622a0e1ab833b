// buildApp() wires routes to services and returns a fastify instance without listening, so tests
// drive it with inject(); main.ts adds the real database, target, builder and a port.
import crypto from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { parseCidrList } from '@dreamnet/core';
import { installAuth } from './auth/plugin.js';
import { gitRoutes } from './git/http.js';
import { hookRoutes } from './git/hook-routes.js';
import { installClosing } from './http/closing.js';
import { installErrorHandler } from './http/errors.js';
import { AJV_OPTIONS, partValidators } from './http/validators.js';
import { adminRoutes } from './admin/routes.js';
import { actionRoutes } from './routes/actions.js';
import { appRoutes } from './routes/apps.js';
import { configRoutes } from './routes/config.js';
import { deploymentRoutes } from './routes/deployments.js';
import { domainRoutes } from './routes/domains.js';
import { internalRoutes } from './routes/internal.js';
import { logRoutes } from './routes/logs.js';
import { metaRoutes } from './routes/meta.js';
import { releaseRoutes } from './routes/releases.js';
import type { Services } from './services.js';
import { metricsRoutes } from './metrics/route.js';
import { tokenRoutes } from './tokens/routes.js';
import { uploadRoutes } from './uploads/route.js';
import { webhookRoutes } from './webhooks/routes.js';

export interface RouteInfo { method: string; url: string; auth: string }

export async function buildApp(s: Services): Promise<FastifyInstance & { routeList: RouteInfo[] }> {
  const app = Fastify({
    loggerInstance: s.log,
    bodyLimit: s.config.maxBodyBytes,
    routerOptions: { maxParamLength: 1000 },
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false,
    // Client-sent X-Forwarded-* are trusted only from the proxies DREAM_TRUSTED_PROXIES names.
    trustProxy: s.config.trustedProxies ? parseCidrList(s.config.trustedProxies).map((r) => `${r.address}/${r.prefix}`) : false,
    // closing.ts answers requests that arrive while closing (catalogued), not fastify's own 503.
    return503OnClosing: false,
    // Bodies are validated without type coercion, query strings and params with it (validators.ts).
    ajv: { customOptions: AJV_OPTIONS },
    schemaController: { compilersFactory: { buildValidator: partValidators() } },
  }) as unknown as FastifyInstance & { routeList: RouteInfo[] };
  app.routeList = [];
  app.addHook('onRoute', (r) => {
    // A line per request is noise at `info`: routes log at warn unless DREAM_LOG_LEVEL=debug.
    r.logLevel ??= s.config.logLevel === 'debug' || s.config.logLevel === 'trace' ? s.config.logLevel : 'warn';
    for (const m of [r.method].flat()) if (m !== 'HEAD') app.routeList.push({ method: m, url: r.url, auth: (r.config as { auth?: string } | undefined)?.auth ?? 'user' });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'DreamNet Platform API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  installErrorHandler(app);
  installClosing(app);
  installAuth(app, { get tokens() { return s.store.tokens; }, // a getter: restore swaps the store's repositories
    internalToken: s.internalToken, pushTokenApp: (t) => s.git.pushTokenApp(t), failuresPerMinute: s.config.authFailuresPerMinute });
  app.addHook('onSend', async (req, reply) => { void reply.header('x-request-id', req.id); });
  // Node hands an upgrade request's socket over to us; the websocket plugin closes it after a
  // refusal only on its own routes. Any other answer (401 on /v1/apps, 404, /healthz…) would leave
  // it open for good: a socket pinned per unauthenticated request, and close() waiting on them.
  app.addHook('onResponse', async (req) => { if ((req.raw as { upgrade?: boolean }).upgrade) req.raw.socket.destroy(); }); // set by node's parser
  for (const register of [metaRoutes, appRoutes, configRoutes, releaseRoutes, deploymentRoutes, actionRoutes, internalRoutes, logRoutes, gitRoutes, hookRoutes, adminRoutes, uploadRoutes, tokenRoutes, webhookRoutes, metricsRoutes, domainRoutes]) {
    register(app, s);
  }
  return app;
}
