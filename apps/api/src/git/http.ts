// git smart HTTP: the real git server side (receive-pack / upload-pack --stateless-rpc), spawned
// with argv. We only authenticate, authorize for the app, frame the advertisement and pipe bytes.
import { spawn } from 'node:child_process';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DreamError } from '@dreamnet/core';
import { authorize, appParam } from '../auth/plugin.js';
import type { Services } from '../services.js';

const SERVICES = ['git-receive-pack', 'git-upload-pack'] as const;
type Service = (typeof SERVICES)[number];
const RepoParams = Type.Object({ repo: Type.String({ maxLength: 200 }) });
const pkt = (s: string) => (s.length + 4).toString(16).padStart(4, '0') + s;

function gitEnv(s: Services, app: string, service: Service, req: FastifyRequest): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GIT_HTTP_EXPORT_ALL: '1' };
  const proto = req.headers['git-protocol'];
  if (typeof proto === 'string' && /^[a-z0-9=:,.-]{1,100}$/i.test(proto)) env.GIT_PROTOCOL = proto;
  if (service === 'git-receive-pack') {
    env.DREAM_HOOK_URL = s.config.apiUrl;
    env.DREAM_HOOK_TOKEN = s.git.issuePushToken(app);
  }
  return env;
}

function repoFor(s: Services, req: FastifyRequest, service: Service): { app: string; dir: string } {
  const app = appParam(req)!;
  authorize(req.token!, app, service === 'git-receive-pack' ? 'deploy' : 'read');
  s.store.apps.get(app);
  return { app, dir: s.git.init(app) };
}

function pipeGit(reply: FastifyReply, args: string[], env: NodeJS.ProcessEnv, contentType: string, prefix?: string, input?: NodeJS.ReadableStream, onExit?: () => void) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache' });
  if (prefix) res.write(prefix);
  const child = spawn('git', args, { env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (input) input.pipe(child.stdin!).on('error', () => child.kill());
  child.stdout!.pipe(res);
  child.stderr!.on('data', () => {});
  child.on('close', () => { onExit?.(); res.end(); });
}

export function gitRoutes(app: FastifyInstance, s: Services): void {
  for (const ct of SERVICES.map((svc) => `application/x-${svc}-request`)) {
    app.addContentTypeParser(ct, (_req, payload, done) => done(null, payload));
  }

  app.get<{ Params: { repo: string }; Querystring: { service: Service } }>('/git/:repo/info/refs', {
    schema: { tags: ['git'], summary: 'git smart-HTTP ref advertisement', params: RepoParams, querystring: Type.Object({ service: Type.Union(SERVICES.map((x) => Type.Literal(x))) }) },
    config: { scope: 'read' },
  }, async (req, reply) => {
    const service = req.query.service;
    const { app: name, dir } = repoFor(s, req, service);
    pipeGit(reply, [service.slice(4), '--stateless-rpc', '--advertise-refs', dir], gitEnv(s, name, 'git-upload-pack', req),
      `application/x-${service}-advertisement`, pkt(`# service=${service}\n`) + '0000');
  });

  for (const service of SERVICES) {
    app.post<{ Params: { repo: string } }>(`/git/:repo/${service}`, {
      schema: { tags: ['git'], summary: `git smart-HTTP ${service}`, params: RepoParams },
      config: { scope: 'read' },
    }, async (req, reply) => {
      const { app: name, dir } = repoFor(s, req, service);
      let body = req.body as NodeJS.ReadableStream;
      if (!body || typeof body.pipe !== 'function') throw new DreamError('VALIDATION_FAILED', `Send Content-Type: application/x-${service}-request.`);
      let seen = 0;
      const limit = s.config.maxPushBytes;
      body.on('data', (c: Buffer) => { seen += c.length; if (seen > limit) (body as unknown as { destroy(e: Error): void }).destroy(new DreamError('BODY_TOO_LARGE')); });
      if (req.headers['content-encoding'] === 'gzip') body = body.pipe(zlib.createGunzip());
      const env = gitEnv(s, name, service, req);
      pipeGit(reply, [service.slice(4), '--stateless-rpc', dir], env, `application/x-${service}-result`, undefined, body,
        () => env.DREAM_HOOK_TOKEN && s.git.revokePushToken(env.DREAM_HOOK_TOKEN));
    });
  }
}
