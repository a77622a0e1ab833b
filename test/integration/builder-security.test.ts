// The builder's front door: authentication, name checks, size caps and hostile archives.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tar from 'tar-stream';
import { loadConfig, type DreamError } from '@dreamnet/core';
import { requestBuild, startBuilder, type RunningBuilder } from '@dreamnet/builder';
import { PREFIX, cleanup } from './builder-helpers.js';

const TOKEN = 'builder-it-sec-token-0123456789';
const uniq = Math.random().toString(36).slice(2, 10);
let tmp: string;
let builder: RunningBuilder;

type E = { name: string; type?: 'file' | 'symlink' | 'directory'; body?: string; linkname?: string };
function tarOf(entries: E[]): Readable {
  const p = tar.pack();
  for (const e of entries) {
    if ((e.type ?? 'file') === 'file') p.entry({ name: e.name }, e.body ?? '');
    else p.entry({ name: e.name, type: e.type, linkname: e.linkname });
  }
  p.finalize();
  return p as unknown as Readable;
}

const buildDirs = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`dreamnet-build-${PREFIX}-`));

beforeAll(async () => {
  // Left over by an earlier run that was killed: not ours to judge, but in the way of the checks.
  for (const d of buildDirs()) fs.rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-sec-`));
  const config = loadConfig({ DREAM_DATA_DIR: path.join(tmp, 'data'), DREAM_BUILDER_PORT: '0', DREAM_LOG_LEVEL: 'silent', DREAM_BASE_IMAGE_NODE: 'dreamnet/node:20' });
  builder = await startBuilder({ config, token: TOKEN, maxBytes: 64 * 1024 });
});

afterAll(async () => {
  await builder?.close();
  await cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function post(query: string, headers: Record<string, string>, body: Buffer = Buffer.alloc(1024)) {
  const res = await fetch(`${builder.url}/v1/builds?${query}`, { method: 'POST', headers: { 'content-type': 'application/x-tar', ...headers }, body: new Uint8Array(body) });
  return { status: res.status, body: await res.json() as { code: string; message: string } };
}

async function attempt(entries: E[], app = `${PREFIX}-evil`): Promise<DreamError> {
  const lines: string[] = [];
  try {
    await requestBuild({ url: builder.url, token: TOKEN, app, tag: 'x1', context: tarOf(entries), onLine: (l) => lines.push(l) });
  } catch (e) {
    expect(lines).toEqual([]); // refused before any build output
    return e as DreamError;
  }
  throw new Error('the build was accepted');
}

describe('builder front door', () => {
  it('GET /healthz answers while the engine is up', async () => {
    const res = await fetch(`${builder.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['the token without Bearer', { authorization: TOKEN }],
  ])('rejects %s with 401', async (_, headers) => {
    expect(await post(`app=${PREFIX}-a&tag=t1`, headers)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
  });

  it.each([
    ['app=Bad_Name&tag=t1', 'INVALID_APP_NAME'],
    ['app=../etc&tag=t1', 'INVALID_APP_NAME'],
    ['tag=t1', 'INVALID_APP_NAME'],
    [`app=${PREFIX}-a&tag=a:b`, 'VALIDATION_FAILED'],
    [`app=${PREFIX}-a&tag=-rm`, 'VALIDATION_FAILED'],
    [`app=${PREFIX}-a&tag=${'x'.repeat(129)}`, 'VALIDATION_FAILED'],
    [`app=${PREFIX}-a`, 'VALIDATION_FAILED'],
  ])('rejects %s with 400 %s', async (query, code) => {
    expect(await post(query, { authorization: `Bearer ${TOKEN}` })).toMatchObject({ status: 400, body: { code } });
  });

  it('unknown routes are 404', async () => {
    expect((await fetch(`${builder.url}/v1/nope`)).status).toBe(404);
  });

  it('caps the archive size (413)', async () => {
    const e = await attempt([{ name: 'big.bin', body: 'x'.repeat(200 * 1024) }]);
    expect(e.code).toBe('BODY_TOO_LARGE');
    expect(e.message).toBe('The source archive is larger than 65536 bytes.');
  });

  it('rejects "../x" and writes nothing outside its temp dir', async () => {
    const name = `../${PREFIX}-dotdot-${uniq}`;
    const e = await attempt([{ name: 'index.html', body: 'hi' }, { name, body: 'pwned' }]);
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', message: `Archive entry "${name}" was rejected: ".." is not allowed in paths.` });
    expect(fs.existsSync(path.join(os.tmpdir(), `${PREFIX}-dotdot-${uniq}`))).toBe(false);
  });

  it('rejects absolute paths', async () => {
    const abs = path.join(os.tmpdir(), `${PREFIX}-abs-${uniq}`);
    const e = await attempt([{ name: abs, body: 'pwned' }]);
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('absolute paths are not allowed') });
    expect(fs.existsSync(abs)).toBe(false);
  });

  it('rejects a symlink to /etc and never writes through it', async () => {
    const e = await attempt([{ name: 'etc', type: 'symlink', linkname: '/etc' }, { name: `etc/${PREFIX}-${uniq}`, body: 'pwned' }]);
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', message: 'Archive entry "etc" was rejected: symbolic links must be relative.' });
    expect(fs.existsSync(`/etc/${PREFIX}-${uniq}`)).toBe(false);
  });

  it('rejects a relative symlink that climbs out', async () => {
    const e = await attempt([{ name: 'up', type: 'symlink', linkname: '../../../../tmp' }, { name: `up/${PREFIX}-${uniq}`, body: 'pwned' }]);
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('leads outside the archive') });
    expect(fs.existsSync(`/tmp/${PREFIX}-${uniq}`)).toBe(false);
  });

  it('a client that vanishes mid-upload leaves no temp dir behind', async () => {
    const req = http.request(`${builder.url}/v1/builds?app=${PREFIX}-gone&tag=g1`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-tar', 'content-length': '40960' },
    });
    req.on('error', () => {});
    const header = tar.pack();
    header.entry({ name: 'big.bin', size: 30000 }).write(Buffer.alloc(1000)); // half an entry, never finished
    header.once('data', (chunk) => void req.write(chunk as Buffer));
    const until = Date.now() + 5000;
    while (buildDirs().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(buildDirs()).toHaveLength(1); // the upload is in progress
    req.destroy();
    while (buildDirs().length > 0 && Date.now() < until + 5000) await new Promise((r) => setTimeout(r, 50));
    expect(buildDirs()).toEqual([]);
  });

  it('cleans up its temp dirs after refused uploads', () => {
    expect(buildDirs()).toEqual([]);
  });

  it('an unreachable builder → BUILDER_UNAVAILABLE', async () => {
    const e = await requestBuild({ url: 'http://127.0.0.1:1', token: TOKEN, app: 'x', tag: 't', context: tarOf([]), onLine: () => {} }).catch((err) => err);
    expect(e).toMatchObject({ code: 'BUILDER_UNAVAILABLE' });
    expect(e.message).toMatch(/^The builder at http:\/\/127\.0\.0\.1:1 is not reachable/);
  });
});
