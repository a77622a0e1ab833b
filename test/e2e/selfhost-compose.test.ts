// The platform as containers: image built once (on the local base image), compose project up, an app
// pushed through the containerised api/builder and served by the containerised proxy; backup while a
// deploy runs → restore into a second project; upgrade of api/builder under load with 0 failures;
// the proxy replaced by the documented procedure (scripts/selfhost-proxy-replace.sh: listener
// handover inside the edge service's network namespace, the listening sockets passed) under load
// with 0 failures, new connections included, and the figure
// of a plain `restart` (which has a gap).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commit, getVia, gitRepo, run } from './platform.js';
import { IMAGE, dream, gitPush, load, platformImage, project, type Project } from './selfhost-helpers.js';

const APP = 'shello';
let image: string;
let a: Project | undefined;
let b: Project | undefined;
let src: string;

beforeAll(async () => {
  image = await platformImage('e2e1');
  a = await project(image);
  await a.compose('up', '-d');
  await a.waitHealthy();
  src = await gitRepo('node-app', { 'body.txt': 'selfhost v1\n' });
}, 900_000);

afterAll(async () => {
  await a?.down();
  await b?.down();
  // The e2e1 image stays as the build cache of the next run; the upgrade image differs only by a tag.
  await run('docker', ['rmi', `${IMAGE}:e2e2`]).catch(() => {});
  await run('docker', ['image', 'ls', '-q', `dream-app/${APP}`]).then(async ({ stdout }) => {
    const ids = [...new Set(stdout.split('\n').filter(Boolean))];
    if (ids.length) await run('docker', ['rmi', '-f', ...ids]).catch(() => {});
  });
});

describe('self-hosting with compose', () => {
  it('runs api, builder and proxy from one image: non-root, socket only where needed, health checks', async () => {
    const inspect = async (svc: string) => JSON.parse((await run('docker', ['inspect', await a!.containerId(svc)])).stdout)[0];
    for (const svc of ['api', 'builder', 'proxy']) {
      const c = await inspect(svc);
      expect(c.Config.Image).toBe(image);
      expect(c.Config.User).toBe('dream');
      expect(c.State.Health.Status).toBe('healthy');
      expect(c.HostConfig.RestartPolicy.Name).toBe('unless-stopped');
      const hasSocket = (c.Mounts as { Source: string }[]).some((m) => m.Source === '/var/run/docker.sock');
      expect(hasSocket, svc).toBe(svc !== 'proxy');
      // A log driver that stops reading must not block the process's writes to stdout (compose file).
      expect(c.HostConfig.LogConfig, svc).toEqual({ Type: 'json-file', Config: { mode: 'non-blocking', 'max-buffer-size': '4m', 'max-size': '20m', 'max-file': '5' } });
    }
    const proxyUid = (await run('docker', ['exec', await a!.containerId('proxy'), 'id', '-u'])).stdout.trim();
    expect(proxyUid).not.toBe('0');
    // The edge service holds the published ports; the proxy joins its network namespace.
    const edge = await inspect('edge');
    expect(edge.Config.User).toBe('65534:65534');
    expect((edge.Mounts as unknown[]).length).toBe(0);
    // The same port inside as outside (the proxy's redirects name the port it listens on).
    expect(Object.keys(edge.HostConfig.PortBindings).sort()).toEqual([`${a!.proxyPort}/tcp`, `${a!.httpsPort}/tcp`].sort());
    const proxy = await inspect('proxy');
    expect(proxy.HostConfig.NetworkMode).toBe(`container:${edge.Id}`);
    expect(proxy.HostConfig.PortBindings ?? {}).toEqual({});
    // Each client and app connection is a file descriptor: the proxy's process may open 16384,
    // not the container default (1024 soft on recent Docker).
    const limits = (await run('docker', ['exec', await a!.containerId('proxy'), 'cat', '/proc/1/limits'])).stdout;
    expect(limits).toMatch(/Max open files\s+16384\s+16384/);
  });

  it('creates an app, git-pushes it through the containerised platform and serves it through the containerised proxy', async () => {
    const token = await a!.token();
    const created = await dream(['apps', 'create', APP, '--url', a!.apiUrl, '--token', token]);
    expect(created.code, created.stderr).toBe(0);
    const pushed = await gitPush(src, a!.apiUrl, APP, token);
    expect(pushed.output).toMatch(/deployed/);
    expect(pushed.code).toBe(0);
    const res = await getVia(a!.proxyPort, `${APP}.dream`);
    expect(res).toEqual({ status: 200, body: 'selfhost v1' });
  });

  it('backs up while a deploy runs; restoring into a fresh project brings the app back', async () => {
    const token = await a!.token();
    await commit(src, { 'body.txt': 'selfhost v2\n' });
    const deploying = gitPush(src, a!.apiUrl, APP, token);
    await new Promise((r) => setTimeout(r, 300)); // the build is under way
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'selfhost-bk-')), 'backup.tar.gz');
    const bk = await dream(['admin', 'backup', '--out', file, '--url', a!.apiUrl, '--token', token]);
    expect(bk.code, bk.stderr).toBe(0);
    expect(bk.stdout).toMatch(/Wrote .*backup\.tar\.gz/);
    expect((await deploying).code).toBe(0);
    expect((await getVia(a!.proxyPort, `${APP}.dream`)).body).toBe('selfhost v2');

    b = await project(image);
    await b.compose('up', '-d');
    await b.waitHealthy();
    const restored = await dream(['admin', 'restore', file, '--url', b.apiUrl, '--token', await b.token()]);
    expect(restored.code, restored.stderr + restored.stdout).toBe(0);
    expect(restored.stdout).toMatch(new RegExp(`Apps: ${APP}`));
    // The old install's admin token works on the new one, and the app answers through B's proxy.
    const apps = await dream(['apps', '--url', b.apiUrl, '--token', token, '--json']);
    expect(apps.stdout).toContain(APP);
    await expect.poll(async () => (await getVia(b!.proxyPort, `${APP}.dream`).catch(() => ({ status: 0, body: '' }))).body, { timeout: 60_000, interval: 500 })
      .toMatch(/^selfhost v[12]$/);
  });

  it('upgrades api and builder to a new image under constant load with 0 failed requests', async () => {
    const next = await platformImage('e2e2');
    const traffic = load(a!.proxyPort, `${APP}.dream`);
    await new Promise((r) => setTimeout(r, 1000));
    a!.setEnv('DREAM_IMAGE', next);
    await a!.compose('up', '-d', '--no-deps', 'api', 'builder');
    await a!.waitHealthy(['api', 'builder']);
    await new Promise((r) => setTimeout(r, 1000));
    const result = await traffic.stop();
    console.log(`[selfhost] api+builder upgrade under load: ${result.ok} ok, ${result.failed} failed`, result.errors);
    expect(result.ok).toBeGreaterThan(50);
    expect(result.failed).toBe(0);
    const api = JSON.parse((await run('docker', ['inspect', await a!.containerId('api')])).stdout)[0];
    expect(api.Config.Image).toBe(next);
    expect(api.Config.Env).toContain('DREAM_VERSION=e2e2');
    // The upgraded platform still deploys.
    await commit(src, { 'body.txt': 'selfhost v3\n' });
    expect((await gitPush(src, a!.apiUrl, APP, await a!.token())).code).toBe(0);
    expect((await getVia(a!.proxyPort, `${APP}.dream`)).body).toBe('selfhost v3');
  });

  it('measures failed requests while the proxy container restarts (plain restart: a gap, reported only)', async () => {
    const traffic = load(a!.proxyPort, `${APP}.dream`);
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    await a!.compose('restart', '-t', '10', 'proxy');
    await a!.waitHealthy(['proxy']);
    const took = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    const result = await traffic.stop();
    console.log(`[selfhost] plain \`docker-compose restart proxy\` under load (one request every 20 ms): ${result.ok} ok, ${result.failed} failed in ${took} ms`, result.errors);
    expect(result.ok).toBeGreaterThan(50);
    expect((await getVia(a!.proxyPort, `${APP}.dream`)).body).toBe('selfhost v3');
  });

  it('replaces the proxy container the documented way (scripts/selfhost-proxy-replace.sh) under load with 0 failed requests, new connections too', async () => {
    const before = await a!.containerId('proxy');
    const traffic = load(a!.proxyPort, `${APP}.dream`);
    // The old proxy passes its listening sockets (handover/fdpass.ts): not even a new connection fails.
    const fresh = load(a!.proxyPort, `${APP}.dream`, 5, '/', true);
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    const out = await a!.replaceProxy();
    const took = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    const result = await traffic.stop();
    const newConns = await fresh.stop();
    console.log(`[selfhost] proxy replaced by scripts/selfhost-proxy-replace.sh under load (one request every 20 ms): ${result.ok} ok, ${result.failed} failed in ${took} ms`, result.errors,
      `; a new connection every 5 ms: ${newConns.ok} ok, ${newConns.failed} failed`, newConns.errors);
    expect(out).toMatch(/new proxy took the ports over/);
    const after = await a!.containerId('proxy');
    expect(after).not.toBe(before);
    expect(after.split('\n')).toHaveLength(1);
    const logs = (await run('docker', ['logs', after])).stdout;
    expect(logs).toMatch(/handover: took over the listeners/);
    console.log(`[selfhost] handover: ${/"gapMs":(\d+)/.exec(logs)?.[1]} ms without a listener, ports passed: ${/"passed":(\[[\d,]*\])/.exec(logs)?.[1]}`);
    expect(logs).toMatch(/handover: the previous proxy passed its listening sockets/);
    expect(result.ok).toBeGreaterThan(100);
    expect(result.failed).toBe(0);
    expect(newConns.ok).toBeGreaterThan(200);
    expect(newConns.failed).toBe(0);
    expect((await getVia(a!.proxyPort, `${APP}.dream`)).body).toBe('selfhost v3');
  });

  it('switches to two proxy workers by replacement, then reloads them (SIGHUP) and replaces them again, under load with 0 failed requests, new connections too', async () => {
    a!.setEnv('DREAM_PROXY_WORKERS', '2');
    const traffic = load(a!.proxyPort, `${APP}.dream`);
    // A cluster primary holds the sockets and passes them too (handover/primary-sockets.ts).
    const fresh = load(a!.proxyPort, `${APP}.dream`, 5, '/', true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await a!.replaceProxy()).toMatch(/new proxy took the ports over/);
    for (let i = 0; i < 2; i++) {
      await a!.compose('kill', '-s', 'SIGHUP', 'proxy');
      await new Promise((r) => setTimeout(r, 3000));
    }
    const logs = await a!.compose('logs', '--no-color', 'proxy');
    expect(await a!.replaceProxy()).toMatch(/new proxy took the ports over/);
    await new Promise((r) => setTimeout(r, 1000));
    const result = await traffic.stop();
    const newConns = await fresh.stop();
    console.log(`[selfhost] proxy 1 → 2 workers (replace), SIGHUP x2, replace again (2 → 2) under load: ${result.ok} ok, ${result.failed} failed`, result.errors,
      `; a new connection every 5 ms: ${newConns.ok} ok, ${newConns.failed} failed`, newConns.errors);
    expect(logs).toMatch(/proxy workers reloaded/);
    expect(logs).toMatch(/handover: the previous proxy passed its listening sockets/);
    expect(result.ok).toBeGreaterThan(300);
    expect(result.failed).toBe(0);
    expect(newConns.ok).toBeGreaterThan(500);
    expect(newConns.failed).toBe(0);
  });

  it('redirects plain HTTP to the published HTTPS port, where the app answers with a certificate from the platform root', async () => {
    // Published on a random port: before, the proxy listened on 443 inside and sent browsers to
    // https://host/ (443), where nothing answers.
    a!.setEnv('DREAM_HTTPS_REDIRECT', 'on');
    expect(await a!.replaceProxy()).toMatch(/new proxy took the ports over/);
    await expect.poll(async () => (await getVia(a!.proxyPort, `${APP}.dream`, '/x?y=1')).status, { timeout: 30_000, interval: 500 }).toBe(308);
    const redirect = await new Promise<string | undefined>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: a!.proxyPort, path: '/x?y=1', headers: { host: `${APP}.dream` } }, (res) => { res.resume(); resolve(res.headers.location); }).on('error', reject);
    });
    expect(redirect).toBe(`https://${APP}.dream:${a!.httpsPort}/x?y=1`);
    const root = (await run('docker', ['exec', await a!.containerId('proxy'), 'cat', '/var/lib/dream/tls/ca/root.pem'])).stdout;
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: a!.httpsPort, path: '/', servername: `${APP}.dream`, headers: { host: `${APP}.dream` }, ca: root }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { b += c; });
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    expect(body).toBe('selfhost v3');
  });
});
