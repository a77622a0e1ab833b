// Client of the builder (docs/architecture.md, "api → builder"): uploads a source tar, relays each
// build output line, and resolves with the image once the builder says "done".
import { Readable } from 'node:stream';
import { request } from 'undici';
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

export async function requestBuild(o: RequestBuildOptions): Promise<BuiltImage> {
  const url = `${o.url.replace(/\/$/, '')}/v1/builds?${new URLSearchParams({ app: o.app, tag: o.tag })}`;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/x-tar' },
      body: o.context instanceof Readable ? o.context : Readable.from(o.context as AsyncIterable<Buffer>),
      signal: o.signal,
      // A quiet step (npm ci, go build) may print nothing for minutes; the build has its own limits.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new DreamError('BUILDER_UNAVAILABLE', `The builder at ${o.url} is not reachable (${(e as Error).message}). Check that it is running (\`npm start\` starts it).`);
  }
  if (res.statusCode !== 200) {
    const text = await res.body.text().catch(() => '');
    let body: { code?: unknown; message?: unknown } = {};
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    const message = typeof body.message === 'string' ? body.message : `The builder answered HTTP ${res.statusCode}.`;
    throw new DreamError(knownCode(body.code) ? body.code : 'BUILDER_UNAVAILABLE', message);
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
    for await (const chunk of res.body) {
      buffer += chunk.toString('utf8');
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
