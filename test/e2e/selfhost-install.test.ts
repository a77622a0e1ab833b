// scripts/install.sh run twice on the same machine: the second run changes nothing (same secrets,
// same containers) and keeps data.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, freePort, run } from './platform.js';
import { COMPOSE_FILE, REGISTRY, load, platformImage } from './selfhost-helpers.js';
import { registryImage } from '../../scripts/selfhost-image.js';

const id = crypto.randomBytes(3).toString('hex');
const projectName = `selfhostinst${id}`;
const network = `selfhost-inst-${id}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfhost-install-'));
const envFile = path.join(dir, '.env');
let env: NodeJS.ProcessEnv;
let apiPort: number;

const install = () => run('bash', [path.join(ROOT, 'scripts/install.sh')], { env, maxBuffer: 16 * 1024 * 1024 })
  .then((r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout}${e.stderr}` }));
const compose = (...args: string[]) => run('docker-compose', ['-f', COMPOSE_FILE, '--env-file', envFile, '-p', projectName, ...args]);
const containers = async () => Object.fromEntries(await Promise.all(['api', 'builder', 'proxy', 'registry'].map(async (s) => [s, (await compose('ps', '-q', s)).stdout.trim()])));

beforeAll(async () => {
  apiPort = await freePort();
  env = {
    ...process.env, DREAM_ENV_FILE: envFile, COMPOSE_PROJECT_NAME: projectName,
    DREAM_IMAGE: await platformImage('e2e1'), DREAM_REGISTRY_IMAGE: await registryImage({ tag: REGISTRY, quiet: true }),
    DREAM_DOCKER_NETWORK: network, DREAM_PUBLISH_API: String(apiPort), DREAM_PUBLISH_HTTP: String(await freePort()),
    DREAM_PUBLISH_HTTPS: String(await freePort()), DREAM_PUBLISH_REGISTRY: String(await freePort()),
    DREAM_API_BIND: '127.0.0.1', DREAM_HTTP_BIND: '127.0.0.1', DREAM_BASE_IMAGE_NODE: 'dreamnet/node:20',
  };
}, 900_000);

afterAll(async () => {
  await compose('down', '-v', '--remove-orphans').catch(() => {});
  await run('docker', ['network', 'rm', network]).catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('scripts/install.sh', () => {
  it('installs, and a second run changes nothing and keeps data', async () => {
    const first = await install();
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/generating .*\.env/);
    expect(first.out).toMatch(/DreamNet Platform is running/);
    expect(first.out).toMatch(/dream login --url http:\/\/\S+:\d+ --token/);
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o600);
    const secrets = fs.readFileSync(envFile, 'utf8');
    expect(secrets).toMatch(/^DREAM_INTERNAL_TOKEN=[0-9a-f]{64}$/m);

    const api = (await containers()).api!;
    const token = (await run('docker', ['exec', api, 'cat', '/var/lib/dream/admin-token'])).stdout.trim();
    const created = await fetch(`http://127.0.0.1:${apiPort}/v1/apps`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'keepme' }) });
    expect(created.status).toBe(201);
    const before = await containers();

    const second = await install();
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/keeping existing/);
    expect(second.out).not.toMatch(/generating/);
    expect(fs.readFileSync(envFile, 'utf8')).toBe(secrets);
    expect(await containers()).toEqual(before);
    const apps = await fetch(`http://127.0.0.1:${apiPort}/v1/apps`, { headers: { authorization: `Bearer ${token}` } });
    expect(apps.status).toBe(200);
    expect(JSON.stringify(await apps.json())).toContain('keepme');
  });

  it('an upgrade whose migration fails changes nothing: the old containers keep running on the old schema', async () => {
    // A "new version" whose last migration fails: the e2e image plus one broken migration, re-bundled.
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'selfhost-badmig-'));
    const migrations = fs.readFileSync(path.join(ROOT, 'apps/api/src/db/migrations.ts'), 'utf8').trimEnd();
    expect(migrations.endsWith('];')).toBe(true);
    fs.writeFileSync(path.join(ctx, 'migrations.ts'), `${migrations.slice(0, -2)}  'CREATE TABLE upgrade_probe (x INTEGER); INSERT INTO no_such_table VALUES (1);',\n];\n`);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), [`FROM ${env.DREAM_IMAGE}`, 'USER root', 'COPY migrations.ts /app/apps/api/src/db/migrations.ts',
      'RUN node scripts/selfhost-bundle.mjs', 'USER dream', ''].join('\n'));
    const bad = `selfhost-e2e/platform:badmig`;
    await run('docker', ['build', '-q', '-t', bad, ctx]);
    fs.rmSync(ctx, { recursive: true, force: true });
    try {
      const before = await containers();
      const version = async () => (await run('docker', ['exec', before.api!, 'node', '-e',
        "const D=require('better-sqlite3');const d=new D('/var/lib/dream/dream.db',{readonly:true});console.log(d.pragma('user_version',{simple:true}))"], { cwd: ROOT })).stdout.trim();
      const schema = await version();
      const envText = fs.readFileSync(envFile, 'utf8');
      fs.writeFileSync(envFile, envText.replace(/^DREAM_IMAGE=.*$/m, `DREAM_IMAGE=${bad}`));
      const upgrade = await run('bash', [path.join(ROOT, 'scripts/install.sh')], { env: { ...env, DREAM_IMAGE: bad } })
        .then((r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout}${e.stderr}` }));
      expect(upgrade.code).not.toBe(0);
      expect(upgrade.out).toMatch(/cannot migrate the database; nothing was changed/);
      expect(upgrade.out).toMatch(/no_such_table/);
      expect(await containers()).toEqual(before);
      expect(await version()).toBe(schema);
      const apps = await fetch(`http://127.0.0.1:${apiPort}/healthz`);
      expect(apps.status).toBe(200);
      fs.writeFileSync(envFile, envText);
    } finally {
      await run('docker', ['rmi', '-f', bad]).catch(() => {});
    }
  });

  it('an upgrade that changes the proxy replaces it next to the running one: 0 failed requests', async () => {
    const before = await containers();
    const traffic = load(Number(env.DREAM_PUBLISH_HTTP), 'any.dream', 20, '/__dream/healthz');
    await new Promise((r) => setTimeout(r, 1000));
    fs.appendFileSync(envFile, 'DREAM_PROXY_WORKERS=2\n');
    const up = await install();
    await new Promise((r) => setTimeout(r, 1000));
    const result = await traffic.stop();
    console.log(`[selfhost] install.sh upgrading the proxy under load (one request every 20 ms): ${result.ok} ok, ${result.failed} failed`, result.errors);
    expect(up.code, up.out).toBe(0);
    expect(up.out).toMatch(/replacing the proxy next to the running one/);
    expect(up.out).toMatch(/new proxy took the ports over/);
    const after = await containers();
    expect(after.proxy).not.toBe(before.proxy);
    expect(after.api).toBe(before.api);
    expect(result.ok).toBeGreaterThan(50);
    expect(result.failed).toBe(0);
  });
});
