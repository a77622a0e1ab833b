// deployment-core's calls against the real platform: DreamNetNativeProvider deploys a static site
// built by a command, a server app, and a failing build; getStatus/listDeployments agree with the api.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DreamNetNativeProvider } from '@dreamnet/platform-sdk';
import { ROOT, getVia, run, startPlatform, type Platform } from './platform.js';

let p: Platform;
let provider: DreamNetNativeProvider;

function fixture(name: string, files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-provider-src-'));
  fs.cpSync(path.join(ROOT, 'test/e2e/fixtures', name), dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}

/** GET through the proxy by the URL the provider returned (its host is <app>.dream:<port>). */
function viaUrl(url: string, urlPath = '/') {
  const u = new URL(url);
  return getVia(p.proxyPort, u.hostname, urlPath);
}

beforeAll(async () => {
  p = await startPlatform();
  provider = new DreamNetNativeProvider({ url: p.apiUrl, token: p.token, pollIntervalMs: 300 });
});
afterAll(async () => {
  for (const app of ['my-site', 'provider-api', 'broken-site']) await p?.request('DELETE', `/v1/apps/${app}`).catch(() => {});
  await p?.stop();
  // Deleting an app keeps its images (for the builder's prune); these names are this test's own.
  for (const app of ['my-site', 'provider-api', 'broken-site']) {
    // By tag (untag): layers shared with other apps' images stay; unshared ones go with the last tag.
    const { stdout } = await run('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `dream-app/${app}`]).catch(() => ({ stdout: '' }));
    const tags = stdout.split('\n').filter(Boolean);
    if (tags.length) await run('docker', ['image', 'rm', ...tags]).catch(() => {});
  }
});

describe('DreamNetNativeProvider against the real platform', () => {
  let siteId: string;

  it('deploys a static site built by buildCommand and served from outputDirectory; ignored files are not uploaded', async () => {
    const src = fixture('provider-static-build', { 'secret.txt': 'no', 'notes.md': 'no' });
    const r = await provider.deploy({
      platform: 'dreamnet', projectName: 'My Site', sourceDirectory: src,
      buildCommand: 'npm run build', outputDirectory: 'dist', environmentVariables: { SITE_MODE: 'production' },
    });
    expect(r, JSON.stringify(r.logs?.slice(-15))).toMatchObject({ success: true, platform: 'dreamnet' });
    expect(r.url).toMatch(/^http:\/\/my-site\.dream:\d+$/);
    expect(r.deploymentId).toMatch(/^dep_/);
    siteId = r.deploymentId!;
    const page = await viaUrl(r.url!);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Built by npm run build</h1>');
    expect(page.body).toContain('secret.txt=absent notes.md=absent');
    // Only the output directory is served: the sources are not in the image's web root.
    expect((await viaUrl(r.url!, '/package.json')).status).toBe(404);
    const config = await p.request('GET', '/v1/apps/my-site/config');
    expect(config.body.items.map((i: { key: string }) => i.key)).toEqual(['SITE_MODE']);
  });

  it('deploys a server app by normal detection, with its environment variables', async () => {
    const r = await provider.deploy({ platform: 'dreamnet', projectName: 'provider_api', sourceDirectory: fixture('node-app'), environmentVariables: { GREETING: 'hello from deployment-core' } });
    expect(r, JSON.stringify(r.logs?.slice(-15))).toMatchObject({ success: true });
    expect((await viaUrl(r.url!)).body).toBe(fs.readFileSync(path.join(ROOT, 'test/e2e/fixtures/node-app/body.txt'), 'utf8').trim());
    expect((await viaUrl(r.url!, '/env')).body).toBe('hello from deployment-core');
  });

  it('a failing build resolves success: false with the catalogued reason and the build log tail', async () => {
    const r = await provider.deploy({ platform: 'dreamnet', projectName: 'Broken Site', sourceDirectory: fixture('provider-broken-build'), buildCommand: 'npm run build', outputDirectory: 'dist' });
    expect(r.success).toBe(false);
    expect(r.deploymentId).toMatch(/^dep_/);
    expect(r.url).toBeUndefined();
    expect(r.error).toMatch(/build/i);
    expect(r.logs!.join('\n')).toContain('intentional failure: cannot find module left-pad');
    const api = await p.request('GET', `/v1/apps/broken-site/deployments/${r.deploymentId}`);
    expect(api.body.state).toBe('failed');
    expect(r.error).toBe(api.body.reason);
  });

  it('getStatus and listDeployments agree with the api', async () => {
    const status = await provider.getStatus(siteId);
    const api = await p.request('GET', `/v1/apps/my-site/deployments/${siteId}`);
    expect(status.success).toBe(api.body.state === 'healthy');
    expect(status.deploymentId).toBe(siteId);
    const list = await provider.listDeployments();
    const all = [];
    for (const app of ['my-site', 'provider-api', 'broken-site']) all.push(...(await p.request('GET', `/v1/apps/${app}/deployments`)).body.items);
    expect(list.map((d) => d.deploymentId).sort()).toEqual(all.map((d: { id: string }) => d.id).sort());
    for (const d of list) {
      const a = all.find((x: { id: string }) => x.id === d.deploymentId);
      expect(d.success, d.deploymentId).toBe(a.state === 'healthy' || a.state === 'superseded');
    }
    const missing = await provider.getStatus('dep_0000000000000000');
    expect(missing).toMatchObject({ success: false });
    expect(missing.error).toMatch(/DEPLOYMENT_NOT_FOUND/);
  });
});
