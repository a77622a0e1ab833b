// Called by the pre-receive hook (apps/api/hooks/pre-receive) with its one-time push token:
// `plan` says which ref deploys (and rejects bad refs), `deploy` builds and rolls out the tar it sends.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { appUrl, isBranchName } from '@dreamnet/core';
import type { Services } from '../services.js';

const ZERO = /^0+$/;
const SHA = '^[0-9a-f]{40}([0-9a-f]{24})?$';
const Plan = Type.Object({
  refs: Type.Array(Type.Object({ oldSha: Type.String({ pattern: SHA }), newSha: Type.String({ pattern: SHA }), ref: Type.String({ maxLength: 300 }) }), { maxItems: 1000 }),
});

/** Set by the auth hook from the one-time push token (auth mode 'push'). */
const pushApp = (_s: Services, req: FastifyRequest): string => req.pushApp!;

export function hookRoutes(app: FastifyInstance, s: Services): void {
  for (const ct of ['application/x-tar']) app.addContentTypeParser(ct, (_req, payload, done) => done(null, payload));

  app.post<{ Body: { refs: { oldSha: string; newSha: string; ref: string }[] } }>('/v1/internal/git/plan', {
    schema: { tags: ['internal'], summary: 'pre-receive hook: which pushed ref deploys', body: Plan }, config: { auth: 'push' },
  }, async (req) => {
    const name = pushApp(s, req);
    const row = s.store.apps.get(name);
    const messages: string[] = [];
    let deploy: { ref: string; sha: string } | null = null;
    for (const r of req.body.refs) {
      const m = /^refs\/(heads|tags)\/(.+)$/.exec(r.ref);
      if (!m || !isBranchName(m[2]!)) {
        return { ok: false, deploy: null, messages: [`DreamNet: refusing ref "${r.ref.slice(0, 80)}": only branches and tags with plain names (letters, digits, . _ / -, not starting with -) are accepted.`] };
      }
      if (m[1] === 'heads' && m[2] === row.deploy_branch && !ZERO.test(r.newSha)) deploy = { ref: r.ref, sha: r.newSha };
      else messages.push(`DreamNet: stored ${r.ref}; only pushes to "${row.deploy_branch}" deploy.`);
    }
    return { ok: true, deploy, messages };
  });

  app.post<{ Querystring: { ref: string; sha: string } }>('/v1/internal/git/deploy', {
    schema: { tags: ['internal'], summary: 'pre-receive hook: build and deploy this tar', querystring: Type.Object({ ref: Type.String({ maxLength: 300 }), sha: Type.String({ pattern: SHA }) }) },
    config: { auth: 'push' },
  }, async (req, reply) => {
    const name = pushApp(s, req);
    const body = req.body as NodeJS.ReadableStream & import('node:stream').Readable;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const say = (line: string) => res.write(JSON.stringify({ line }) + '\n');
    const dep = await s.deployer.deploySource(name, { context: () => body, gitSha: req.query.sha, description: `Deploy ${req.query.sha.slice(0, 7)}` }, say);
    if (dep.state === 'healthy') {
      say(`=====> ${name} v${dep.version} deployed: ${appUrl(s.config, name)}`);
      res.end(JSON.stringify({ exit: 0 }) + '\n');
    } else {
      say(`=====> Deploy of ${name} failed (${dep.id}): ${dep.reason}`);
      res.end(JSON.stringify({ exit: 1 }) + '\n');
    }
  });
}
