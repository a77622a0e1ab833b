// A small in-memory stand-in for the DreamNet REST API, used to drive the real `dream` binary in
// cli-commands.test.ts. It follows the api contract: Bearer auth, status codes, and errors shaped
// { statusCode, code, error, message, requestId } with messages from the core error catalogue.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERRORS, type ErrorCode } from '../../packages/core/src/errors.js';

export const TOKEN = 'test-token-123';
const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const KEY = /^[A-Z_][A-Z0-9_]{0,127}$/;

interface Rel { id: string; version: number; image: string; description: string; createdAt: string; configKeys: string[] }
interface Dep { id: string; app: string; releaseId: string | null; version: number | null; state: string; reason: string | null; createdAt: string; updatedAt: string; events: { state: string; reason: string | null; at: string }[]; buildLog?: string }
interface AppState { name: string; deployBranch: string; replicas: number; createdAt: string; healthCheckPath: string | null; maxRequestBody: number | null; requestBuffering: boolean | null; config: Map<string, { value: string; updatedAt: string }>; releases: Rel[]; deployments: Dep[] }

export interface FakeApi {
  url: string;
  apps: Map<string, AppState>;
  /** Every request body the fake received, for asserting what the CLI sent. */
  bodies: unknown[];
  /** State the next deployment ends in. */
  nextState: { state: string; reason: string | null };
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly code: ErrorCode, message?: string) { super(message ?? ERRORS[code].message); }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict' };

export async function startFakeApi(): Promise<FakeApi> {
  const apps = new Map<string, AppState>();
  const bodies: unknown[] = [];
  const fake = { apps, bodies, nextState: { state: 'healthy', reason: null as string | null } } as FakeApi;
  const now = () => new Date().toISOString();

  const view = (a: AppState) => {
    const r = a.releases.at(-1);
    return {
      name: a.name, deployBranch: a.deployBranch, replicas: a.replicas, createdAt: a.createdAt,
      healthCheckPath: a.healthCheckPath, maxRequestBody: a.maxRequestBody, requestBuffering: a.requestBuffering,
      url: `http://${a.name}.dream:8080`, gitUrl: `${fake.url}/git/${a.name}.git`,
      currentRelease: r ? { version: r.version, id: r.id, image: r.image, createdAt: r.createdAt, description: r.description } : null,
      status: { healthy: !!r, replicas: r ? a.replicas : 0, crashLooping: false },
    };
  };
  const release = (a: AppState, description: string, image?: string): Rel => {
    const r = { id: randomUUID(), version: a.releases.length + 1, image: image ?? `dream-app/${a.name}@sha256:${'ab'.repeat(32)}`, description, createdAt: now(), configKeys: [...a.config.keys()] };
    a.releases.push(r);
    return r;
  };
  const deploy = (a: AppState, r: Rel): Dep => {
    const t = now();
    const { state, reason } = fake.nextState;
    const d = { id: randomUUID(), app: a.name, releaseId: r.id, version: r.version, state, reason, createdAt: t, updatedAt: t,
      events: [{ state: 'queued', reason: null, at: t }, { state: 'deploying', reason: null, at: t }, { state, reason, at: t }],
      buildLog: 'Step 1/2 : FROM dreamnet/node:20\n\u001b[32mStep 2/2\u001b[0m : CMD ["node","server.js"]\n' };
    a.deployments.unshift(d);
    return d;
  };
  const configView = (a: AppState) => ({ items: [...a.config].map(([key, v]) => ({ key, fingerprint: createHash('sha256').update(v.value).digest('hex').slice(0, 12), updatedAt: v.updatedAt })) });

  const route = (method: string, parts: string[], body: any): [number, unknown] => {
    if (method === 'GET' && parts.join('/') === 'v1/whoami') return [200, { name: 'admin', scope: 'admin' }];
    if (parts[0] !== 'v1' || parts[1] !== 'apps') throw new HttpError('NOT_FOUND');
    if (parts.length === 2) {
      if (method === 'GET') return [200, { items: [...apps.values()].map(view) }];
      if (method === 'POST') {
        if (!body || typeof body.name !== 'string') throw new HttpError('VALIDATION_FAILED');
        if (!NAME.test(body.name)) throw new HttpError('INVALID_APP_NAME');
        if (apps.has(body.name)) throw new HttpError('APP_EXISTS');
        const a: AppState = { name: body.name, deployBranch: body.deployBranch ?? 'main', replicas: 1, createdAt: now(), healthCheckPath: null, maxRequestBody: null, requestBuffering: null, config: new Map(), releases: [], deployments: [] };
        apps.set(a.name, a);
        return [201, view(a)];
      }
    }
    const a = apps.get(parts[2]!);
    if (!a) throw new HttpError('APP_NOT_FOUND');
    const sub = parts.slice(3).join('/');
    if (sub === '' && method === 'GET') return [200, view(a)];
    if (sub === '' && method === 'DELETE') { apps.delete(a.name); return [204, undefined]; }
    if (sub === '' && method === 'PATCH') {
      // The real api's schema (apps/api/src/http/schemas.ts PatchApp): nothing changes unless all of it is valid.
      const b = body ?? {};
      const known = ['deployBranch', 'healthCheckPath', 'maxRequestBody', 'requestBuffering'];
      const valid = Object.keys(b).every((k) => known.includes(k))
        && (b.maxRequestBody === undefined || b.maxRequestBody === null || (Number.isSafeInteger(b.maxRequestBody) && b.maxRequestBody >= 0))
        && (b.requestBuffering === undefined || b.requestBuffering === null || typeof b.requestBuffering === 'boolean')
        && (b.healthCheckPath === undefined || b.healthCheckPath === null || b.healthCheckPath === '' || (typeof b.healthCheckPath === 'string' && b.healthCheckPath.startsWith('/')))
        && (b.deployBranch === undefined || (typeof b.deployBranch === 'string' && b.deployBranch.length > 0));
      if (!valid) throw new HttpError('VALIDATION_FAILED');
      if (b.deployBranch !== undefined) a.deployBranch = b.deployBranch;
      if (b.healthCheckPath !== undefined) a.healthCheckPath = b.healthCheckPath || null;
      if (b.maxRequestBody !== undefined) a.maxRequestBody = b.maxRequestBody;
      if (b.requestBuffering !== undefined) a.requestBuffering = b.requestBuffering;
      return [200, view(a)];
    }
    if (sub === 'config' && method === 'GET') return [200, configView(a)];
    if (sub === 'config' && method === 'PATCH') {
      const keys = [...Object.keys(body?.set ?? {}), ...(body?.unset ?? [])];
      const bad = keys.find((k) => !KEY.test(k));
      if (bad) throw new HttpError('INVALID_CONFIG_KEY', `"${bad}" is not a valid config key. Keys must match ^[A-Z_][A-Z0-9_]{0,127}$.`);
      for (const [k, v] of Object.entries(body?.set ?? {})) a.config.set(k, { value: String(v), updatedAt: now() });
      for (const k of body?.unset ?? []) a.config.delete(k);
      if (!a.releases.length) return [200, configView(a)];
      const r = release(a, `Config change: ${keys.join(', ')}`, a.releases.at(-1)!.image);
      return [200, { ...configView(a), release: r, deployment: deploy(a, r) }];
    }
    if (sub === 'releases' && method === 'GET') return [200, { items: [...a.releases].reverse() }];
    // Like the real api, the list leaves out events and build logs.
    if (sub === 'deployments' && method === 'GET') return [200, { items: a.deployments.map(({ events: _e, buildLog: _b, ...d }) => d) }];
    if (parts[3] === 'deployments' && parts.length === 5 && method === 'GET') {
      const d = a.deployments.find((x) => x.id === parts[4]);
      if (!d) throw new HttpError('DEPLOYMENT_NOT_FOUND');
      return [200, d];
    }
    if (sub === 'rollback' && method === 'POST') {
      const target = a.releases.find((r) => r.version === body?.version);
      if (!target) throw new HttpError('RELEASE_NOT_FOUND');
      const r = release(a, `Rollback to v${target.version}`, target.image);
      return [201, { release: r, deployment: deploy(a, r) }];
    }
    if (sub === 'scale' && method === 'POST') {
      if (!Number.isInteger(body?.replicas) || body.replicas < 0) throw new HttpError('VALIDATION_FAILED');
      a.replicas = body.replicas;
      if (!a.releases.length) return [200, { app: a.name, replicas: a.replicas }];
      return [200, { app: a.name, replicas: a.replicas, deployment: deploy(a, a.releases.at(-1)!) }];
    }
    if (sub === 'restart' && method === 'POST') {
      if (!a.releases.length) throw new HttpError('NO_RELEASE');
      return [200, { deployment: deploy(a, a.releases.at(-1)!) }];
    }
    throw new HttpError('NOT_FOUND');
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const requestId = randomUUID();
      const send = (status: number, payload: unknown) => {
        if (payload === undefined) { res.writeHead(status).end(); return; }
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      try {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) throw new HttpError('UNAUTHENTICATED');
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text ? JSON.parse(text) : undefined;
        if (body !== undefined) bodies.push(body);
        const parts = new URL(req.url!, 'http://x').pathname.split('/').filter(Boolean).map(decodeURIComponent);
        send(...route(req.method!, parts, body));
      } catch (e) {
        const code: ErrorCode = e instanceof HttpError ? e.code : 'INTERNAL';
        const status = ERRORS[code].status;
        send(status, { statusCode: status, code, error: STATUS_TEXT[status] ?? 'Error', message: e instanceof HttpError ? e.message : ERRORS.INTERNAL.message, requestId });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}

/** Adds a deployment whose build failed, so it has no release (version null). */
export function fakeFailedBuild(fake: FakeApi, app: string): string {
  const t = new Date().toISOString();
  const id = randomUUID();
  fake.apps.get(app)!.deployments.unshift({ id, app, releaseId: null, version: null, state: 'failed', reason: 'BUILD_FAILED: npm ci exited 1', createdAt: t, updatedAt: t,
    events: [{ state: 'queued', reason: 'git push', at: t }, { state: 'building', reason: null, at: t }, { state: 'failed', reason: 'BUILD_FAILED: npm ci exited 1', at: t }],
    buildLog: 'Step 3/5 : RUN npm ci\nnpm ERR! missing package-lock.json\n' });
  return id;
}

/** Adds a release and a healthy deployment as if `git push` had happened. */
export function fakePush(fake: FakeApi, app: string): void {
  const a = fake.apps.get(app)!;
  const r = { id: randomUUID(), version: a.releases.length + 1, image: `dream-app/${app}@sha256:${'cd'.repeat(32)}`, description: 'Deploy 1a2b3c4', createdAt: new Date().toISOString(), configKeys: [...a.config.keys()] };
  a.releases.push(r);
  const t = r.createdAt;
  a.deployments.unshift({ id: randomUUID(), app, releaseId: r.id, version: r.version, state: 'healthy', reason: null, createdAt: t, updatedAt: t, events: [{ state: 'healthy', reason: null, at: t }] });
}
