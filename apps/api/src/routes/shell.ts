// `dream shell` and `dream run` over WebSocket: a pty on the api runs the target's attach argv (the
// engine's exec / start --attach). Registered inside the websocket scope of routes/logs.ts; every
// socket route authenticates (header or ticket) and authorizes the app before the upgrade.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DreamError, type RunSpec } from '@dreamnet/core';
import { AppParams } from '../http/schemas.js';
import type { Services } from '../services.js';
import type { LogService } from '../logs/service.js';
import { socketAuth } from '../logs/socket-auth.js';
import { releaseSpec, APP_PORT } from '../deploy/spec.js';
import { ShellAudit } from '../shell/audit.js';
import { attachPty } from '../shell/pty-session.js';

type ShellQuery = { replica?: string; cols?: string; rows?: string; cmd?: string | string[] };

const RunBody = Type.Object({ cmd: Type.Array(Type.String({ maxLength: 8192 }), { minItems: 1, maxItems: 256 }) }, { additionalProperties: false });

function dims(q: ShellQuery): { cols: number; rows: number } {
  const n = (v: string | undefined, d: number) => { const x = Number(v); return Number.isInteger(x) && x >= 1 && x <= 1000 ? x : d; };
  return { cols: n(q.cols, 80), rows: n(q.rows, 24) };
}

function argvOf(q: ShellQuery, fallback: string[] | null): string[] {
  const cmd = q.cmd === undefined ? fallback : [q.cmd].flat();
  if (!cmd || cmd.length === 0 || cmd.length > 256 || cmd.some((a) => a.length > 8192)) throw new DreamError('VALIDATION_FAILED', 'cmd is the command as argv: repeat ?cmd= once per argument.');
  return cmd;
}

export function shellRoutes(scope: FastifyInstance, s: Services, logs: LogService): void {
  // Looked up per use: a restore swaps the store's database.
  const audit = { start: (...a: Parameters<ShellAudit['start']>) => new ShellAudit(s.store.db).start(...a), end: (id: number, code: number | null) => new ShellAudit(s.store.db).end(id, code) };
  const deployAuth = socketAuth({ get tokens() { return s.store.tokens; }, tickets: logs.tickets }, 'deploy');
  // The pty runs the docker CLI: give it only what it needs from our environment.
  const ptyEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TERM: 'xterm-256color' };
  const ptyOpts = (q: ShellQuery) => ({ ...dims(q), idleMs: s.config.shellIdleMs, pingMs: s.config.wsPingMs, queueBytes: s.config.wsQueueBytes, env: ptyEnv });

  /** The current release as a one-off RunSpec: its image, its config, the app's limits. */
  const runSpec = (app: string, cmd: string[], detach: boolean): RunSpec => {
    const row = s.store.apps.get(app);
    if (!row.current_release_id) throw new DreamError('NO_RELEASE', `${app} has no release yet; push first.`);
    const release = s.store.releases.get(app, row.current_release_id);
    const spec = releaseSpec(s.config, row, release, s.store.releases.config(app, release.id));
    return { app, image: spec.image, env: { ...spec.env, PORT: String(APP_PORT) }, cmd, limits: spec.limits, detach };
  };
  const need = <K extends 'attachArgv' | 'run'>(k: K) => {
    const fn = s.target[k];
    if (!fn) throw new DreamError('VALIDATION_FAILED', `The ${s.target.kind} target does not support this.`);
    return fn.bind(s.target) as NonNullable<Services['target'][K]>;
  };

  // Prepared before the upgrade so a bad request or a missing replica is an HTTP error, not a socket.
  const prepared = new WeakMap<FastifyRequest, { argv: string[]; kind: 'shell' | 'run'; label: string; runId?: string; cmd: string[] }>();

  type Prepared = { argv: string[]; kind: 'shell' | 'run'; label: string; runId?: string; cmd: string[] };
  type TerminalRequest = FastifyRequest<{ Params: { app: string }; Querystring: ShellQuery }>;
  /** One WebSocket terminal route: authenticated, prepared before the upgrade, then attached. */
  const terminalRoute = (url: string, summary: string, prepare: (req: TerminalRequest) => Promise<Prepared>) =>
    scope.route<{ Params: { app: string }; Querystring: ShellQuery }>({
      method: 'GET', url,
      config: { auth: 'socket' }, // authenticated by deployAuth: the header or a ticket
      onRequest: deployAuth,
      schema: { tags: ['shell'], summary, params: AppParams },
      preHandler: async (req) => { prepared.set(req, await prepare(req)); },
      handler: async () => { throw new DreamError('VALIDATION_FAILED', 'This is a WebSocket endpoint: connect with Upgrade: websocket.'); },
      wsHandler: (socket, req) => void session(socket, req),
    });

  terminalRoute('/v1/apps/:app/shell', 'WebSocket: an interactive terminal in a running replica (?replica=N&cols&rows&cmd=…)', async (req) => {
    s.store.apps.get(req.params.app);
    const replica = req.query.replica === undefined ? undefined : Number(req.query.replica);
    if (replica !== undefined && (!Number.isInteger(replica) || replica < 1 || replica > 100)) throw new DreamError('VALIDATION_FAILED', 'replica is a number from 1.');
    const cmd = argvOf(req.query, ['/bin/sh']);
    const argv = await need('attachArgv')(req.params.app, cmd, replica !== undefined ? { replica } : {});
    return { argv, kind: 'shell', label: `replica ${replica ?? 1}`, cmd };
  });

  terminalRoute('/v1/apps/:app/run', 'WebSocket: a one-off container of the current release running ?cmd=…, attached; removed afterwards', async (req) => {
    const cmd = argvOf(req.query, null);
    const h = await need('run')(runSpec(req.params.app, cmd, false));
    return { argv: h.attach, kind: 'run', label: h.id.slice(0, 12), runId: h.id, cmd };
  });

  scope.post<{ Params: { app: string }; Body: { cmd: string[] } }>('/v1/apps/:app/runs', {
    schema: { tags: ['shell'], summary: 'Start a detached one-off container; follow it with logs ?source=run&replica=<id>', params: AppParams, body: RunBody },
  }, async (req, reply) => {
    const h = await need('run')(runSpec(req.params.app, req.body.cmd, true));
    const id = h.id.slice(0, 12);
    const a = audit.start('run-detached', req.params.app, req.token, id, req.body.cmd);
    audit.end(a, null);
    logs.collector.followRun(req.params.app, h.id);
    return reply.status(202).send({ id, logs: `/v1/apps/${req.params.app}/logs?follow=1&source=run&replica=${id}` });
  });

  async function session(socket: Parameters<typeof attachPty>[0], req: FastifyRequest) {
    const p = prepared.get(req)!;
    const { app } = req.params as { app: string };
    const id = audit.start(p.kind, app, req.token, p.label, p.cmd);
    let code: number | null = null;
    try {
      code = await attachPty(socket, p.argv, ptyOpts(req.query as ShellQuery));
    } finally {
      audit.end(id, code);
      if (p.runId) await s.target.removeRun?.(p.runId);
    }
  }
}
