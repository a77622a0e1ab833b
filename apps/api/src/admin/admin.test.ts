import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@dreamnet/core';
import { buildApp } from '../app.js';
import { loadSealer } from '../bootstrap.js';
import { openDb, openStore } from '../db/index.js';
import { MIGRATIONS } from '../db/migrations.js';
import { Deployer } from '../deploy/deployer.js';
import { Reconciler } from '../deploy/reconciler.js';
import { GitService } from '../git/service.js';
import { RouteTable } from '../routing/table.js';
import { RecordingTarget, StubBuilder, source } from '../test-support.js';
import { writeBackup } from './backup.js';
import { stageBackup } from './restore.js';
import { rebuildMissing } from './rebuild.js';
import { execFileSync } from 'node:child_process';
import type { Services } from '../services.js';

/** An api over a file database and a data dir holding its own encryption key (like main.ts). */
async function install() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-admin-test-'));
  const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_TARGET: 'fake', DREAM_LOG_LEVEL: 'silent', DREAM_VERSION: '9.9.9' });
  const store = openStore(path.join(dataDir, 'dream.db'), loadSealer(dataDir));
  const target = new RecordingTarget();
  const builder = new StubBuilder();
  const deps = { config, store, target, builder, routes: new RouteTable(), log: pino({ level: process.env.ADMIN_TEST_LOG ?? 'silent' }) };
  const deployer = new Deployer(deps);
  const reconciler = new Reconciler(deps, deployer);
  const git = new GitService(path.join(dataDir, 'git'));
  const app = await buildApp({ ...deps, deployer, reconciler, git, internalToken: 'int' });
  const admin = store.tokens.create('admin', 'admin').token;
  return { app, store, target, deployer, dataDir, auth: { authorization: `Bearer ${admin}` }, admin, git, builder, log: deps.log };
}

async function withApp(t: Awaited<ReturnType<typeof install>>) {
  expect((await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } })).statusCode).toBe(201);
  expect((await t.app.inject({ method: 'PATCH', url: '/v1/apps/web/config', headers: t.auth, payload: { set: { SECRET: 's3cret' } } })).statusCode).toBeLessThan(300);
  const dep = await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'push' });
  expect(dep.state).toBe('healthy');
  fs.mkdirSync(path.join(t.dataDir, 'certs'), { recursive: true });
  fs.writeFileSync(path.join(t.dataDir, 'certs', 'web.example.pem'), 'CERT');
}

const restoreReq = (payload: Buffer, auth: Record<string, string>, extra: Record<string, string> = {}, q = '') =>
  ({ method: 'POST' as const, url: `/v1/admin/restore${q}`, headers: { ...auth, 'content-type': 'application/gzip', ...extra }, payload });

describe('admin backup and restore', () => {
  it('backs up one archive and restores apps, releases, secrets, certificates and tokens into a fresh install', async () => {
    const a = await install();
    await withApp(a);
    const res = await a.app.inject({ method: 'GET', url: '/v1/admin/backup', headers: a.auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(res.headers['x-dream-backup-warning']).toBeUndefined();
    await expect.poll(() => fs.readdirSync(a.dataDir).filter((f) => f.startsWith('.backup-'))).toEqual([]);

    const b = await install();
    const restored = await b.app.inject(restoreReq(res.rawPayload, b.auth));
    expect(restored.statusCode, restored.body).toBe(200);
    expect(restored.json()).toMatchObject({ apps: ['web'], platformVersion: '9.9.9', schemaTo: MIGRATIONS.length });
    // The old install's tokens are the ones that work now.
    expect((await b.app.inject({ method: 'GET', url: '/v1/apps', headers: b.auth })).statusCode).toBe(401);
    const apps = await b.app.inject({ method: 'GET', url: '/v1/apps/web/releases', headers: a.auth });
    expect(apps.statusCode).toBe(200);
    expect(apps.json().items).toHaveLength(1);
    expect(fs.readFileSync(path.join(b.dataDir, 'certs', 'web.example.pem'), 'utf8')).toBe('CERT');
    expect(fs.readFileSync(path.join(b.dataDir, 'encryption.key'), 'utf8')).toBe(fs.readFileSync(path.join(a.dataDir, 'encryption.key'), 'utf8'));
    // The reconciler brought the app up with its sealed config opened by the restored key.
    await expect.poll(() => b.target.runningSpec('web')?.env.SECRET, { timeout: 5000 }).toBe('s3cret');
  });

  it('without the key: warns, refuses a restore whose key cannot open the secrets, accepts it with the key', async () => {
    const a = await install();
    await withApp(a);
    const res = await a.app.inject({ method: 'GET', url: '/v1/admin/backup?withoutKey=true', headers: a.auth });
    expect(res.headers['x-dream-backup-warning']).toMatch(/does not contain the encryption key/);
    const b = await install();
    const wrong = await b.app.inject(restoreReq(res.rawPayload, b.auth));
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'BACKUP_INVALID', message: expect.stringMatching(/encryption key/) });
    expect(b.store.apps.list()).toEqual([]);
    const key = fs.readFileSync(path.join(a.dataDir, 'encryption.key'), 'utf8').trim();
    const ok = await b.app.inject(restoreReq(res.rawPayload, b.auth, { 'x-dream-encryption-key': key }));
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('refuses damaged archives, non-admin tokens and installs that already have apps', async () => {
    const a = await install();
    await withApp(a);
    const good = (await a.app.inject({ method: 'GET', url: '/v1/admin/backup', headers: a.auth })).rawPayload;
    const b = await install();
    const tar = zlib.gunzipSync(good);
    tar[tar.length - 2000] ^= 0xff; // flip a byte inside the last file's data
    const damaged = await b.app.inject(restoreReq(zlib.gzipSync(tar), b.auth));
    expect(damaged.statusCode).toBe(400);
    expect(damaged.json().code).toBe('BACKUP_INVALID');
    const junk = await b.app.inject(restoreReq(zlib.gzipSync(Buffer.alloc(1024)), b.auth));
    expect(junk.json().code).toBe('BACKUP_INVALID');
    const deployTok = b.store.tokens.create('ci', 'deploy').token;
    expect((await b.app.inject({ method: 'GET', url: '/v1/admin/backup', headers: { authorization: `Bearer ${deployTok}` } })).statusCode).toBe(403);
    const busy = await a.app.inject(restoreReq(good, a.auth));
    expect(busy.statusCode).toBe(409);
    expect(busy.json().code).toBe('RESTORE_REFUSED');
    expect(fs.readdirSync(b.dataDir).filter((f) => f.startsWith('.restore-'))).toEqual([]);
  });

  it('migrates a snapshot made by an older schema while staging it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-admin-old-'));
    const old = openDb(path.join(dir, 'dream.db'), MIGRATIONS.slice(0, 1));
    const { file, manifest } = await writeBackup({ db: old, dataDir: dir, platformVersion: 'old', includeKey: true });
    expect(manifest.schemaVersion).toBe(1);
    const extra = [...MIGRATIONS, 'CREATE TABLE selfhost_probe (x INTEGER);'];
    const staged = await stageBackup(fs.createReadStream(file), fs.mkdtempSync(path.join(os.tmpdir(), 'dream-admin-new-')), extra);
    expect(staged).toMatchObject({ schemaFrom: 1, schemaTo: extra.length });
    void crypto;
  });

  it('rebuilds an app whose release image is missing from its restored git repository', async () => {
    const t = await install();
    expect((await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } })).statusCode).toBe(201);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-admin-src-'));
    const git = (...args: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(work, 'index.js'), 'hello');
    git('add', '-A'); git('commit', '-qm', 'one');
    // Fetched straight into the bare repository: its deploy hook is not what this test is about.
    execFileSync('git', ['--git-dir', t.git.dir('web'), 'fetch', '-q', work, 'main:main']);
    const sha = git('rev-parse', 'HEAD');
    expect((await t.deployer.deploySource('web', { context: () => Readable.from(source()()), gitSha: sha, description: 'push' })).state).toBe('healthy');
    const s = { store: t.store, deployer: t.deployer, git: t.git, log: t.log } as unknown as Services;
    expect(await rebuildMissing(s, async () => true)).toEqual({ rebuilding: [], cannotRebuild: [] });
    expect(await rebuildMissing(s, async () => false)).toEqual({ rebuilding: ['web'], cannotRebuild: [] });
    await expect.poll(() => t.store.releases.list('web').length, { timeout: 10_000 }).toBe(2);
    expect(t.builder.count).toBe(2);
    const latest = t.store.releases.list('web')[0]!;
    expect(latest).toMatchObject({ gitSha: sha, description: expect.stringMatching(/rebuilt after restore/) });
  });
});
