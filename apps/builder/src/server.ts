// The builder's HTTP service (docs/architecture.md, "api → builder"):
//   POST /v1/builds?app=&tag=  tar body → 200 NDJSON: {"type":"log"} lines, then "done" or "error"
//   GET  /healthz              200 when the Docker engine answers
// Failures before the stream starts (auth, names, a rejected archive) are plain JSON errors.
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { pino, type Logger } from 'pino';
import { DreamError, assertAppName, safeEqual, type Config } from '@dreamnet/core';
import { dockerClient } from '@dreamnet/targets/dockerode';
import { AppLocks } from './applock.js';
import { buildImage } from './build.js';
import { extractTar } from './extract.js';
import { pruneImages } from './prune.js';

/** Image tags: Docker's own rule (first character not '.' or '-'), at most 128 characters. */
export const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}$/;
export const DEFAULT_MAX_FILES = 100_000;

export interface BuilderOptions {
  config: Config;
  token: string;
  docker?: Dockerode;
  log?: Logger;
  /** Largest accepted source tar (default config.maxPushBytes) and most entries in it. */
  maxBytes?: number;
  maxFiles?: number;
}

export interface RunningBuilder {
  url: string;
  close(): Promise<void>;
}

function sendError(res: http.ServerResponse, e: DreamError, requestId: string): void {
  const body = JSON.stringify({ statusCode: e.status, code: e.code, error: http.STATUS_CODES[e.status], message: e.message, requestId });
  res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Throws UNAUTHENTICATED unless the request carries the internal token (constant-time compare). */
function authenticate(req: http.IncomingMessage, token: string): void {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m || !safeEqual(m[1]!, token)) throw new DreamError('UNAUTHENTICATED');
}

export async function startBuilder(opts: BuilderOptions): Promise<RunningBuilder> {
  const { config, token } = opts;
  if (!token) throw new Error('startBuilder needs a non-empty internal token');
  const docker = opts.docker ?? dockerClient(config.dockerSocket);
  const log = opts.log ?? pino({ level: config.logLevel, name: 'builder' });
  const limits = { maxBytes: opts.maxBytes ?? config.maxPushBytes, maxFiles: opts.maxFiles ?? DEFAULT_MAX_FILES };
  const locks = new AppLocks();
  const active = new Set<AbortController>();
  let seq = 0;

  async function build(req: http.IncomingMessage, res: http.ServerResponse, url: URL, requestId: string): Promise<void> {
    authenticate(req, token);
    const app = assertAppName(url.searchParams.get('app') ?? '');
    const tag = url.searchParams.get('tag') ?? '';
    if (!TAG.test(tag)) throw new DreamError('VALIDATION_FAILED', 'tag must match ^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}$.');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limits.maxBytes) throw new DreamError('BODY_TOO_LARGE', `The source archive is larger than ${limits.maxBytes} bytes.`);
    const ac = new AbortController();
    active.add(ac);
    res.on('close', () => { if (!res.writableFinished) ac.abort(); });
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `dreamnet-build-${app}-`));
    try {
      // Through a PassThrough so that a rejected archive does not destroy the socket we answer on.
      const body = new PassThrough();
      // A client that goes away mid-upload must not leave the extraction waiting for more bytes.
      req.on('error', (e) => body.destroy(e));
      req.on('close', () => { if (!req.complete) body.destroy(new DreamError('VALIDATION_FAILED', 'The upload was interrupted.')); });
      req.pipe(body);
      const { files } = await extractTar(body, dir, limits);
      req.unpipe(body);
      log.info({ requestId, app, tag, files }, 'source received');
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      const send = (o: object) => { if (!res.destroyed) res.write(JSON.stringify(o) + '\n'); };
      if (locks.busy(app)) send({ type: 'log', line: `-----> Waiting for the running build of ${app} to finish` });
      await locks.run(app, async () => {
        if (ac.signal.aborted) return; // the client left while waiting
        const started = Date.now();
        try {
          const result = await buildImage({ docker, config, app, tag, dir, signal: ac.signal, onLine: (line) => send({ type: 'log', line }) });
          log.info({ requestId, app, tag, kind: result.kind, imageId: result.imageId, ms: Date.now() - started }, 'build done');
          send({ type: 'done', ...result });
          // Pruning is off the deploy's critical path: the api has its image; the app lock still
          // keeps the next build of this app waiting until it is done.
          res.end();
          const removed = await pruneImages(docker, app, config.keepImages, result.imageId).catch((e: Error) => {
            log.warn({ requestId, app, err: e.message }, 'pruning old images failed');
            return [] as string[];
          });
          if (removed.length) log.info({ requestId, app, removed }, 'removed old images');
        } catch (e) {
          const err = e instanceof DreamError ? e : new DreamError('BUILD_FAILED', `The build could not run: ${(e as Error).message}`);
          log.info({ requestId, app, tag, code: err.code, err: err.message, ms: Date.now() - started }, 'build failed');
          send({ type: 'error', code: err.code, message: err.message });
        }
        res.end();
      });
    } finally {
      active.delete(ac);
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = `b${++seq}`;
    const url = new URL(req.url ?? '/', 'http://builder');
    try {
      if (req.method === 'GET' && url.pathname === '/healthz') {
        const ok = await docker.ping().then(() => true, () => false);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ok ? 'ok' : 'docker engine unreachable' }));
        return;
      }
      if (url.pathname === '/v1/builds' && req.method === 'POST') return await build(req, res, url, requestId);
      throw new DreamError('NOT_FOUND');
    } catch (e) {
      const err = e instanceof DreamError ? e : new DreamError('INTERNAL');
      if (!(e instanceof DreamError)) log.error({ requestId, err: e }, 'request failed');
      else log.info({ requestId, method: req.method, path: url.pathname, code: err.code, err: err.message }, 'request refused');
      if (res.headersSent) { res.end(); return; }
      sendError(res, err, requestId);
      drain(req, limits.maxBytes);
    }
  }

  const server = http.createServer((req, res) => void handle(req, res));
  server.requestTimeout = 0; // uploads and builds may take long; the body cap bounds them instead
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.builderPort, config.builderHost, () => resolve());
  });
  const addr = server.address() as { port: number };
  const host = config.builderHost === '0.0.0.0' ? '127.0.0.1' : config.builderHost;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  log.info({ url }, 'builder listening');
  return {
    url,
    async close() {
      for (const ac of active) ac.abort();
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeIdleConnections(); });
    },
  };
}

/** Reads and discards the rest of a refused upload (so the client sees our answer), up to the cap. */
function drain(req: http.IncomingMessage, max: number): void {
  let seen = 0;
  req.unpipe();
  req.on('data', (c: Buffer) => { seen += c.length; if (seen > max) req.destroy(); });
  req.resume();
}
