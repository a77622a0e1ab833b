// A signed GitHub-format push webhook against the real platform (api, builder, proxy, Docker): the
// api fetches the commit from a local bare repository and the app serves it through the proxy.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gitRepo, run, startPlatform, type Platform } from './platform.js';

let p: Platform;
beforeAll(async () => { p = await startPlatform({ DREAM_WEBHOOK_GIT_SCHEMES: 'https,file' }); });
afterAll(async () => {
  await p?.request('DELETE', '/v1/apps/hooked').catch(() => {});
  await p?.stop();
  const { stdout } = await run('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', 'dream-app/hooked']).catch(() => ({ stdout: '' }));
  const tags = stdout.split('\n').filter(Boolean);
  if (tags.length) await run('docker', ['image', 'rm', ...tags]).catch(() => {});
});

it('a signed GitHub push of the deploy branch deploys that commit; the app serves it', async () => {
  const work = await gitRepo('static-site', { 'index.html': '<h1>deployed by webhook</h1>\n' });
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-hook-bare-'));
  await run('git', ['init', '-q', '--bare', bare]);
  await run('git', ['push', '-q', bare, 'main'], { cwd: work });
  const sha = (await run('git', ['rev-parse', 'HEAD'], { cwd: work })).stdout.trim();
  expect((await p.request('POST', '/v1/apps', { name: 'hooked' })).status).toBe(201);
  const secret = crypto.randomBytes(24).toString('hex');
  expect((await p.request('PUT', '/v1/apps/hooked/hooks', { secret, repoUrl: `file://${bare}` })).status).toBe(200);

  const body = JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { clone_url: `file://${bare}` } });
  const send = (sig: string) => fetch(`${p.apiUrl}/v1/apps/hooked/webhooks/github`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': sig },
  });
  expect((await send(`sha256=${crypto.createHmac('sha256', 'not-the-secret').update(body).digest('hex')}`)).status).toBe(401);
  const res = await send(`sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`);
  expect(res.status).toBe(202);
  const { id } = await res.json() as { id: string };
  let dep: { state: string; buildLog?: string } = { state: 'queued' };
  for (let i = 0; i < 600 && !['healthy', 'failed'].includes(dep.state); i++) {
    await new Promise((r) => setTimeout(r, 200));
    dep = (await p.request('GET', `/v1/apps/hooked/deployments/${id}`)).body;
  }
  expect(dep.state, dep.buildLog).toBe('healthy');
  const page = await p.get('hooked');
  expect(page.status).toBe(200);
  expect(page.body).toContain('deployed by webhook');
  expect((await p.request('GET', '/v1/apps/hooked/releases')).body.items[0].gitSha).toBe(sha);
  fs.rmSync(bare, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});
