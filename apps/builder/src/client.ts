// Client of the builder (docs/architecture.md, "api → builder"): uploads a source tar, relays each
// build output line, and resolves with the image once the builder says "done". node:http, not
// undici: the api has node:http loaded anyway, and a second HTTP stack (undici and its WebAssembly
// parser) would be ~10 MB of the idle api for one request per deploy.
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DreamError, ERRORS, type ErrorCode } from '@dreamnet/core';

export interface RequestBuildOptions {
  url: string;
  token: string;
  app: string;
  tag: string;
  /** A tar of the source tree. */
  context: NodeJS.ReadableStream;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

export interface BuiltImage {
  image: string;
  imageId: string;
  kind: string;
}

const knownCode = (c: unknown): c is ErrorCode => typeof c === 'string' && Object.hasOwn(ERRORS, c);

/** POSTs the context; resolves with the response (whatever its status) or rejects if none came. */
async function post(o: RequestBuildOptions, url: URL): Promise<http.IncomingMessage> {
  const mod: typeof http = url.protocol === 'https:' ? (await import('node:https')).default as unknown as typeof http : http;
  const body = o.context instanceof Readable ? o.context : Readable.from(o.context as AsyncIterable<Buffer>);
  return new Promise((resolve, reject) => {
    const req = mod.request(url, {
      // A connection of its own (one build per deploy): none of the global agent's 5 s socket
      // timeout (a quiet step, npm ci or go build, may print nothing for minutes; the build has its
      // own limits), and no kept-alive socket that a refused upload may have left half-closed.
      method: 'POST', signal: o.signal, agent: false,
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/x-tar' },
    });
    req.once('response', resolve);
    req.once('error', reject); // after a response this is a no-op: the response stream reports it
    // The builder may answer (401, 413…) before the upload ends; what happens to the upload then
    // shows in the response.
    pipeline(body, req).catch(() => {});
  });
}

async function text(res: http.IncomingMessage): Promise<string> {
  let t = '';
  for await (const chunk of res) t += (chunk as Buffer).toString('utf8');
  return t;
}

export async function requestBuild(o: RequestBuildOptions): Promise<BuiltImage> {
  const url = new URL(`${o.url.replace(/\/$/, '')}/v1/builds?${new URLSearchParams({ app: o.app, tag: o.tag })}`);
  let res: http.IncomingMessage;
  try {
    res = await post(o, url);
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new DreamError('BUILDER_UNAVAILABLE', `The builder at ${o.url} is not reachable (${(e as Error).message}). Check that it is running (\`npm start\` starts it).`);
  }
  if (res.statusCode !== 200) {
    const body = await text(res).catch(() => '');
    res.destroy();
    let parsed: { code?: unknown; message?: unknown } = {};
    try { parsed = JSON.parse(body); } catch { /* not JSON */ }
    const message = typeof parsed.message === 'string' ? parsed.message : `The builder answered HTTP ${res.statusCode}.`;
    throw new DreamError(knownCode(parsed.code) ? parsed.code : 'BUILDER_UNAVAILABLE', message);
  }
  let buffer = '';
  let result: BuiltImage | null = null;
  let failure: DreamError | null = null;
  const handle = (raw: string) => {
    if (!raw.trim()) return;
    let m: { type?: string; line?: unknown; code?: unknown; message?: unknown; image?: unknown; imageId?: unknown; kind?: unknown };
    try { m = JSON.parse(raw); } catch { o.onLine(raw); return; }
    if (m.type === 'log' && typeof m.line === 'string') o.onLine(m.line);
    else if (m.type === 'done') result = { image: String(m.image), imageId: String(m.imageId), kind: String(m.kind) };
    else if (m.type === 'error') failure = new DreamError(knownCode(m.code) ? m.code : 'BUILD_FAILED', typeof m.message === 'string' ? m.message : undefined);
  };
  try {
    for await (const chunk of res) {
      buffer += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) { handle(buffer.slice(0, nl)); buffer = buffer.slice(nl + 1); }
    }
    handle(buffer);
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new DreamError('BUILDER_UNAVAILABLE', `The connection to the builder broke during the build (${(e as Error).message}).`);
  }
  if (failure) throw failure;
  if (!result) throw new DreamError('BUILDER_UNAVAILABLE', 'The builder stopped before the build finished.');
  return result;
}
