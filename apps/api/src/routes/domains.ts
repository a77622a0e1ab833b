// Custom domains per app (GET/POST/DELETE /v1/apps/:app/domains) and the certificate status the
// proxies report (POST /v1/internal/certs/status). Adding or removing a domain updates the route
// table at once, so the proxies serve it (and order its certificate) without a redeploy.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DreamError } from '@dreamnet/core';
import { Type } from '@sinclair/typebox';
import { appHosts } from '../deploy/spec.js';
import { authorize } from '../auth/plugin.js';
import { AppParams } from '../http/schemas.js';
import type { Services } from '../services.js';
import { checkDomain } from './domain-name.js';

const DomainBody = Type.Object({
  host: Type.String({ maxLength: 1000, description: 'e.g. www.example.com' }),
  move: Type.Optional(Type.Boolean({ description: 'Take the domain from the app that has it, in one step: no moment where neither app serves it (needs deploy scope on both apps).' })),
}, { additionalProperties: false });
const DomainParams = Type.Object({ app: Type.String({ maxLength: 200 }), host: Type.String({ maxLength: 1000 }) });
const CertReport = Type.Object({
  proxy: Type.String({ minLength: 1, maxLength: 200 }),
  certs: Type.Array(Type.Object({
    host: Type.String({ maxLength: 300 }),
    state: Type.Union([Type.Literal('pending'), Type.Literal('issued'), Type.Literal('renewing'), Type.Literal('failing')]),
    issuer: Type.Optional(Type.String({ maxLength: 300 })),
    notAfter: Type.Optional(Type.String({ maxLength: 64 })),
    error: Type.Optional(Type.String({ maxLength: 4000 })),
    nextAttemptAt: Type.Optional(Type.String({ maxLength: 64 })),
  }), { maxItems: 100_000 }),
});

export function domainRoutes(app: FastifyInstance, s: Services): void {
  // Every route-table entry gets the app's custom domains (deployer and reconciler call set()).
  s.routes.extraHosts = (name) => s.store.domains.hostsOf(name);

  const present = (appName: string) => {
    const auto = appHosts(s.config, appName);
    return [...auto.map((host) => ({ host, kind: 'automatic' as const })), ...s.store.domains.hostsOf(appName).map((host) => ({ host, kind: 'custom' as const }))]
      .map(({ host, kind }) => {
        const c = s.store.domains.certStatus(host);
        return { host, kind, certificate: c ? { state: c.state, issuer: c.issuer, notAfter: c.not_after, error: c.error, nextAttemptAt: c.next_attempt_at, reportedAt: c.updated_at } : null };
      });
  };

  app.get<{ Params: { app: string } }>('/v1/apps/:app/domains', { schema: { tags: ['domains'], summary: 'The names an app is served at, with certificate status', params: AppParams } }, async (req) => {
    const row = s.store.apps.get(req.params.app);
    return { items: present(row.name), nextCursor: null };
  });

  app.post<{ Params: { app: string }; Body: { host: string; move?: boolean } }>('/v1/apps/:app/domains', { schema: { tags: ['domains'], summary: 'Add a custom domain (its certificate is ordered automatically), or move it here from another app (move: true)', params: AppParams, body: DomainBody } }, async (req, reply) => {
    const row = s.store.apps.get(req.params.app);
    const dreamOwner = (n: string) => { const a = n.slice(0, -'.dream'.length); return s.store.apps.find(a) ? a : undefined; };
    const host = checkDomain(req.body.host, s.config.domain, dreamOwner, row.name);
    const owner = s.store.domains.owner(host);
    if (req.body.move && owner && owner !== row.name) {
      // Taking it away is acting on the other app too.
      if (req.token) authorize(req.token, owner, 'deploy');
      s.store.domains.move(row.name, host);
      // Both entries change before anything can read the table (no await in between), so the
      // proxies' next snapshot has the name on the new app: never on neither (a 404, a refused DNS
      // answer, a certificate dropped and read back) as with remove, then add.
      s.routes.refreshHosts(owner, appHosts(s.config, owner));
      s.routes.refreshHosts(row.name, appHosts(s.config, row.name));
      return reply.status(201).send({ ...present(row.name).find((d) => d.host === host), movedFrom: owner });
    }
    s.store.domains.add(row.name, host);
    s.routes.refreshHosts(row.name, appHosts(s.config, row.name));
    return reply.status(201).send(present(row.name).find((d) => d.host === host));
  });

  app.delete<{ Params: { app: string; host: string } }>('/v1/apps/:app/domains/:host', { schema: { tags: ['domains'], summary: 'Remove a custom domain', params: DomainParams } }, async (req, reply) => {
    const row = s.store.apps.get(req.params.app);
    s.store.domains.remove(row.name, req.params.host);
    s.routes.refreshHosts(row.name, appHosts(s.config, row.name));
    return reply.status(204).send();
  });

  // The built-in CA's root (made by the proxy on first start, in the shared data dir): `dream trust`.
  app.get('/v1/tls/root', { schema: { tags: ['domains'], summary: 'The .dream root certificate (PEM) to import once so every app is trusted' }, config: { scope: 'read' } }, async () => {
    let pem: string;
    try { pem = fs.readFileSync(path.join(s.config.dataDir, 'tls', 'ca', 'root.pem'), 'utf8'); } catch {
      throw new DreamError('NOT_FOUND', 'There is no .dream root certificate yet: the proxy makes it on its first start (and not at all when DREAM_DREAM_ACME_DIRECTORY is set).');
    }
    return { pem, fingerprint256: new crypto.X509Certificate(pem).fingerprint256 };
  });

  app.post<{ Body: { proxy: string; certs: Array<{ host: string; state: string; issuer?: string; notAfter?: string; error?: string; nextAttemptAt?: string }> } }>('/v1/internal/certs/status', { schema: { tags: ['internal'], summary: 'A proxy reports the state of its certificates', body: CertReport }, config: { auth: 'internal' } }, async (req, reply) => {
    s.store.domains.report(req.body.proxy, req.body.certs);
    return reply.status(204).send();
  });
}
