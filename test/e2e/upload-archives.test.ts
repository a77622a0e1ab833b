// Source uploads (POST /v1/apps/:app/deployments) through the real api code with real tar/gzip
// streams: hostile archives are refused with catalogued errors before anything is built, and nothing
// is written outside the api's temp dir; good ones deploy (202 + poll), Idempotency-Key replays.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { testApi } from '../../apps/api/src/test-support.js';

type Entry = Partial<tar.Header> & { name: string; body?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (e?: unknown) => (e ? reject(e) : resolve());
      if (body !== undefined) pack.entry(h as tar.Header, body, cb); else pack.entry(h as tar.Header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A tar whose single header claims `size` bytes but carries only a few (no 2 GB needed to test 2 GB). */
function claimedSize(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100); header.write('0000000\0', 108); header.write('0000000\0', 116);
  header.write(size.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('0', 156);
  header.write('ustar\0', 257); header.write('00', 263);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([header, Buffer.alloc(4096, 'x')]);
}

async function setup() {
  const t = await testApi();
  await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } });
  const upload = (body: Buffer, type = 'application/x-tar', headers: Record<string, string> = {}, query = '') =>
    t.app.inject({ method: 'POST', url: `/v1/apps/web/deployments${query}`, headers: { ...t.auth, 'content-type': type, ...headers }, payload: body });
  return { t, upload };
}

const uploadDirs = () => fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('dream-upload-')).length;

describe('source upload: hostile archives', () => {
  it.each([
    ['a symlink to /etc', [{ name: 'etc', type: 'symlink', linkname: '/etc' }], 'ARCHIVE_REJECTED', /absolute path/],
    ['a symlink leading out by ..', [{ name: 'sub/', type: 'directory' }, { name: 'sub/up', type: 'symlink', linkname: '../../..' }], 'ARCHIVE_REJECTED', /outside the archive/],
    ['a hardlink to ../../x', [{ name: 'h', type: 'link', linkname: '../../x' }], 'ARCHIVE_REJECTED', /"\.\."/],
    ['a ../../x path', [{ name: '../../x', body: 'pwned' }], 'ARCHIVE_REJECTED', /"\.\."/],
    ['an absolute path', [{ name: '/tmp/dream-upload-escape', body: 'pwned' }], 'ARCHIVE_REJECTED', /absolute/],
    ['a device file', [{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }], 'ARCHIVE_REJECTED', /character-device/],
  ] as [string, Entry[], string, RegExp][])('%s → 400', async (_label, entries, code, message) => {
    const { t, upload } = await setup();
    const before = uploadDirs();
    const res = await upload(await tarOf([{ name: 'index.html', body: '<h1>hi</h1>' }, ...entries]));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe(code);
    expect(res.json().message).toMatch(message);
    expect(fs.existsSync('/tmp/dream-upload-escape')).toBe(false);
    expect(uploadDirs()).toBe(before); // the temp copy is gone too
    expect(t.store.deployments.page('web', null, undefined, 10)).toEqual([]); // nothing was queued or built
    expect(t.builder.count).toBe(0);
  });

  it('100 000 files (gzipped) → 413 ARCHIVE_TOO_LARGE, without reading them all', async () => {
    const { t, upload } = await setup();
    const entries: Entry[] = [];
    for (let i = 0; i < 100_000; i++) entries.push({ name: `f${i}`, body: '' });
    const gz = zlib.gzipSync(await tarOf(entries));
    const res = await upload(gz, 'application/gzip');
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'ARCHIVE_TOO_LARGE' });
    expect(res.json().message).toMatch(/more than 20000 entries/);
    expect(t.builder.count).toBe(0);
  });

  it('an entry claiming 2 GB → 413 ARCHIVE_TOO_LARGE at its header', async () => {
    const { upload } = await setup();
    const res = await upload(claimedSize('big.bin', 2 * 1024 ** 3));
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toMatch(/claims 2147483648 bytes/);
  });

  it('a gzip bomb is cut off at the uncompressed cap; garbage is not an archive', async () => {
    const t = await testApi({ DREAM_MAX_UPLOAD_BYTES: String(1024 * 1024) });
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } });
    const bomb = zlib.gzipSync(await tarOf([{ name: 'zeros', body: '\0'.repeat(8 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await t.app.inject({ method: 'POST', url: '/v1/apps/web/deployments', headers: { ...t.auth, 'content-type': 'application/gzip' }, payload: bomb });
    expect(res.statusCode).toBe(413);
    const junk = await t.app.inject({ method: 'POST', url: '/v1/apps/web/deployments', headers: { ...t.auth, 'content-type': 'application/x-tar' }, payload: Buffer.from('not a tar at all'.repeat(100)) });
    expect(junk.statusCode).toBe(400);
    expect(junk.json().code).toBe('ARCHIVE_REJECTED');
  });
});

describe('source upload: the happy path', () => {
  it('202 with the queued deployment; polling reaches healthy; an inside symlink is fine', async () => {
    const { t, upload } = await setup();
    const res = await upload(zlib.gzipSync(await tarOf([{ name: 'index.html', body: 'hi' }, { name: 'home.html', type: 'symlink', linkname: 'index.html' }])), 'application/gzip');
    expect(res.statusCode, res.body).toBe(202);
    const dep = res.json();
    expect(dep.id).toMatch(/^dep_/);
    expect(res.headers.location).toBe(`/v1/apps/web/deployments/${dep.id}`);
    let state = dep.state;
    for (let i = 0; i < 100 && !['healthy', 'failed'].includes(state); i++) {
      await new Promise((r) => setTimeout(r, 20));
      state = (await t.app.inject({ method: 'GET', url: res.headers.location as string, headers: t.auth })).json().state;
    }
    expect(state).toBe('healthy');
  });

  it('?wait=true answers with the finished deployment', async () => {
    const { upload } = await setup();
    const res = await upload(await tarOf([{ name: 'index.html', body: 'hi' }]), 'application/x-tar', {}, '?wait=true');
    expect(res.statusCode).toBe(200);
    expect(res.json().state).toBe('healthy');
  });

  it('the same Idempotency-Key gives the same deployment and builds once; another app with it → 409', async () => {
    const { t, upload } = await setup();
    const body = await tarOf([{ name: 'index.html', body: 'hi' }]);
    const a = await upload(body, 'application/x-tar', { 'idempotency-key': 'ci-run-42' }, '?wait=true');
    const b = await upload(body, 'application/x-tar', { 'idempotency-key': 'ci-run-42' });
    expect(b.statusCode).toBe(200);
    expect(b.headers['idempotent-replay']).toBe('true');
    expect(b.json().id).toBe(a.json().id);
    expect(t.builder.count).toBe(1);
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'api' } });
    const c = await t.app.inject({ method: 'POST', url: '/v1/apps/api/deployments', headers: { ...t.auth, 'content-type': 'application/x-tar', 'idempotency-key': 'ci-run-42' }, payload: body });
    expect(c.statusCode).toBe(409);
    expect(c.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('a refused archive does not burn its Idempotency-Key', async () => {
    const { upload } = await setup();
    const bad = await upload(await tarOf([{ name: '../x', body: 'x' }]), 'application/x-tar', { 'idempotency-key': 'k1' });
    expect(bad.statusCode).toBe(400);
    const good = await upload(await tarOf([{ name: 'index.html', body: 'x' }]), 'application/x-tar', { 'idempotency-key': 'k1' });
    expect(good.statusCode).toBe(202);
  });

  it('lists page with nextCursor until the end', async () => {
    const { t, upload } = await setup();
    for (let i = 0; i < 5; i++) await upload(await tarOf([{ name: 'index.html', body: String(i) }]), 'application/x-tar', {}, '?wait=true');
    const seen: string[] = [];
    let url = '/v1/apps/web/deployments?limit=2';
    for (;;) {
      const page = (await t.app.inject({ method: 'GET', url, headers: t.auth })).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((d: { id: string }) => d.id));
      if (!page.nextCursor) break;
      url = `/v1/apps/web/deployments?limit=2&cursor=${page.nextCursor}`;
    }
    const all = (await t.app.inject({ method: 'GET', url: '/v1/apps/web/deployments', headers: t.auth })).json();
    expect(seen).toEqual(all.items.map((d: { id: string }) => d.id));
    expect(seen).toHaveLength(5);
    const rel = (await t.app.inject({ method: 'GET', url: '/v1/apps/web/releases?limit=3', headers: t.auth })).json();
    expect(rel.items.map((r: { version: number }) => r.version)).toEqual([5, 4, 3]);
    const rel2 = (await t.app.inject({ method: 'GET', url: `/v1/apps/web/releases?limit=3&cursor=${rel.nextCursor}`, headers: t.auth })).json();
    expect(rel2).toMatchObject({ nextCursor: null });
    expect(rel2.items.map((r: { version: number }) => r.version)).toEqual([2, 1]);
    const bad = await t.app.inject({ method: 'GET', url: '/v1/apps?cursor=Zm9v', headers: t.auth });
    expect(bad.statusCode).toBe(400);
  });
});
