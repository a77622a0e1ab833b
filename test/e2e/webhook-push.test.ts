// Git webhooks through the real api code and real git: a signed push of the deploy branch to a local
// bare repository is fetched (file:// allowed only in this test's settings) and deployed; wrong,
// missing and replayed deliveries are refused; no secret = webhook off. Outbound notifications are
// received by a local HTTP server and their signatures verified.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi } from '../../apps/api/src/test-support.js';
import { commit, gitRepo, run } from './platform.js';

const SECRET = 'a-webhook-secret-of-some-length';
let bare: string;
let work: string;
let sha: string;

beforeAll(async () => {
  work = await gitRepo('static-site');
  bare = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-hook-bare-'));
  await run('git', ['init', '-q', '--bare', bare]);
  await run('git', ['push', '-q', bare, 'main'], { cwd: work });
  sha = (await run('git', ['rev-parse', 'HEAD'], { cwd: work })).stdout.trim();
});
afterAll(() => { for (const d of [bare, work]) fs.rmSync(d, { recursive: true, force: true }); });

const hmac = (body: string, secret = SECRET) => crypto.createHmac('sha256', secret).update(body).digest('hex');

async function setup(hooks: Record<string, unknown> | null = { secret: SECRET }) {
  const t = await testApi({ DREAM_WEBHOOK_GIT_SCHEMES: 'https,file' });
  await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'site' } });
  if (hooks) {
    const res = await t.app.inject({ method: 'PUT', url: '/v1/apps/site/hooks', headers: t.auth, payload: { repoUrl: `file://${bare}`, ...hooks } });
    expect(res.statusCode, res.body).toBe(200);
  }
  const github = (payload: object, headers: Record<string, string> = {}) => {
    const body = JSON.stringify(payload);
    return t.app.inject({
      method: 'POST', url: '/v1/apps/site/webhooks/github', payload: body,
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': `sha256=${hmac(body)}`, ...headers },
    });
  };
  const waitHealthy = async (id: string) => {
    for (let i = 0; i < 200; i++) {
      const d = (await t.app.inject({ method: 'GET', url: `/v1/apps/site/deployments/${id}`, headers: t.auth })).json();
      if (['healthy', 'failed'].includes(d.state)) return d;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('deployment did not finish');
  };
  return { t, github, waitHealthy };
}

const push = (after = sha, ref = 'refs/heads/main') => ({ ref, after, repository: { clone_url: 'https://example.invalid/ignored.git' } });

describe('GitHub push webhook', () => {
  it('a correctly signed push of the deploy branch fetches that commit and deploys it', async () => {
    const { t, github, waitHealthy } = await setup();
    const res = await github(push());
    expect(res.statusCode, res.body).toBe(202);
    const dep = await waitHealthy(res.json().id);
    expect(dep.state).toBe('healthy');
    const rel = (await t.app.inject({ method: 'GET', url: '/v1/apps/site/releases', headers: t.auth })).json().items[0];
    expect(rel.gitSha).toBe(sha);
    expect(rel.description).toMatch(/Webhook push \(github\)/);
  });

  it('deploys the pushed commit even when the branch has moved on since', async () => {
    const { t, github, waitHealthy } = await setup();
    await commit(work, { 'index.html': '<h1>second</h1>' });
    await run('git', ['push', '-q', bare, 'main'], { cwd: work });
    const res = await github(push(sha));
    expect(res.statusCode, res.body).toBe(202);
    await waitHealthy(res.json().id);
    expect((await t.app.inject({ method: 'GET', url: '/v1/apps/site/releases', headers: t.auth })).json().items[0].gitSha).toBe(sha);
  });

  it('wrong signature, missing signature → 401; replayed delivery → 409; nothing deployed', async () => {
    const { t, github } = await setup();
    const wrong = await github(push(), { 'x-hub-signature-256': `sha256=${hmac(JSON.stringify(push()), 'another-secret-entirely')}` });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('WEBHOOK_SIGNATURE_INVALID');
    const body = JSON.stringify(push());
    const missing = await t.app.inject({ method: 'POST', url: '/v1/apps/site/webhooks/github', payload: body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'd-1' } });
    expect(missing.statusCode).toBe(401);
    const tampered = await github({ ...push(), ref: 'refs/heads/main' }, { 'x-hub-signature-256': `sha256=${hmac(body.replace('main', 'main '))}` });
    expect(tampered.statusCode).toBe(401);
    const first = await github(push('0'.repeat(40)), { 'x-github-delivery': 'delivery-42' });
    expect(first.statusCode).toBe(200); // a branch deletion: verified, recorded, nothing to deploy
    const replay = await github(push(), { 'x-github-delivery': 'delivery-42' });
    expect(replay.statusCode).toBe(409);
    expect(replay.json().code).toBe('WEBHOOK_REPLAYED');
    expect(t.builder.count).toBe(0);
  });

  it('no secret configured → 404 WEBHOOK_DISABLED, whatever is sent; a secret shorter than 16 is refused', async () => {
    const { t, github } = await setup(null);
    const res = await github(push());
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('WEBHOOK_DISABLED');
    const short = await t.app.inject({ method: 'PUT', url: '/v1/apps/site/hooks', headers: t.auth, payload: { secret: 'short' } });
    expect(short.statusCode).toBe(400);
    // An empty secret means off, never "accept everything".
    const empty = await t.app.inject({ method: 'PUT', url: '/v1/apps/site/hooks', headers: t.auth, payload: { secret: '' } });
    expect(empty.json().webhook.enabled).toBe(false);
    expect((await github(push())).statusCode).toBe(404);
    const off = await setup({ secret: null });
    expect((await off.github(push())).statusCode).toBe(404);
    const hooks = (await off.t.app.inject({ method: 'GET', url: '/v1/apps/site/hooks', headers: off.t.auth })).json();
    expect(hooks.webhook).toMatchObject({ enabled: false });
    expect(JSON.stringify(hooks)).not.toContain(SECRET);
  });

  it('other branches and other events are verified but do not deploy', async () => {
    const { t, github } = await setup();
    const other = await github(push(sha, 'refs/heads/feature'));
    expect(other.statusCode).toBe(200);
    expect(other.json().ignored).toMatch(/not the deploy branch/);
    const ping = await github({ zen: 'hi' }, { 'x-github-event': 'ping' });
    expect(ping.statusCode).toBe(200);
    expect(t.builder.count).toBe(0);
  });

  it('only allow-listed repository schemes are fetched', async () => {
    const t = await testApi(); // default: https only
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'site' } });
    const res = await t.app.inject({ method: 'PUT', url: '/v1/apps/site/hooks', headers: t.auth, payload: { secret: SECRET, repoUrl: `file://${bare}` } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('REPO_URL_NOT_ALLOWED');
    for (const url of ['ext::sh -c touch% /tmp/pwned', 'https://user:pw@example.com/r.git', '--upload-pack=touch /tmp/pwned']) {
      const r = await t.app.inject({ method: 'PUT', url: '/v1/apps/site/hooks', headers: t.auth, payload: { secret: SECRET, repoUrl: url } });
      expect(r.statusCode, url).toBe(400);
    }
    // Payload-supplied URLs are checked the same way.
    await t.app.inject({ method: 'PUT', url: '/v1/apps/site/hooks', headers: t.auth, payload: { secret: SECRET } });
    const body = JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { clone_url: `file://${bare}` } });
    const hook = await t.app.inject({ method: 'POST', url: '/v1/apps/site/webhooks/github', payload: body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'x1', 'x-hub-signature-256': `sha256=${hmac(body)}` } });
    expect(hook.statusCode).toBe(400);
    expect(hook.json().code).toBe('REPO_URL_NOT_ALLOWED');
  });
});

describe('GitLab and Gitea push webhooks', () => {
  it('GitLab: X-Gitlab-Token must equal the secret', async () => {
    const { t, waitHealthy } = await setup();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: sha, project: { git_http_url: 'https://example.invalid/x.git' } });
    const send = (token: string, uuid: string) => t.app.inject({ method: 'POST', url: '/v1/apps/site/webhooks/gitlab', payload: body, headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': uuid, 'x-gitlab-token': token } });
    expect((await send('wrong-token-wrong-token', 'u1')).statusCode).toBe(401);
    const ok = await send(SECRET, 'u2');
    expect(ok.statusCode, ok.body).toBe(202);
    expect((await waitHealthy(ok.json().id)).state).toBe('healthy');
  });

  it('Gitea: X-Gitea-Signature is the hex HMAC', async () => {
    const { t, waitHealthy } = await setup();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { clone_url: 'https://example.invalid/x.git' } });
    const send = (sig: string, id: string) => t.app.inject({ method: 'POST', url: '/v1/apps/site/webhooks/gitea', payload: body, headers: { 'content-type': 'application/json', 'x-gitea-event': 'push', 'x-gitea-delivery': id, 'x-gitea-signature': sig } });
    expect((await send(hmac(body, 'nope-nope-nope-nope'), 'g1')).statusCode).toBe(401);
    const ok = await send(hmac(body), 'g2');
    expect(ok.statusCode, ok.body).toBe(202);
    expect((await waitHealthy(ok.json().id)).state).toBe('healthy');
  });
});

describe('outbound notifications', () => {
  it('each deployment state change is POSTed as JSON signed with the notification secret', async () => {
    const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { got.push({ headers: req.headers, body }); res.end('ok'); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const notifySecret = 'notify-secret-notify-secret';
      const { t, github, waitHealthy } = await setup({ secret: SECRET, notifyUrl: `http://127.0.0.1:${port}/hook`, notifySecret });
      const res = await github(push());
      const dep = await waitHealthy(res.json().id);
      for (let i = 0; i < 100 && !got.some((g) => JSON.parse(g.body).deployment.state === 'healthy'); i++) await new Promise((r) => setTimeout(r, 20));
      const states = got.map((g) => JSON.parse(g.body)).filter((b) => b.deployment.id === dep.id).map((b) => b.deployment.state);
      expect(new Set(states)).toEqual(new Set(['queued', 'building', 'deploying', 'healthy']));
      for (const g of got) {
        expect(g.headers['x-dream-signature-256']).toBe(`sha256=${crypto.createHmac('sha256', notifySecret).update(g.body).digest('hex')}`);
        expect(g.headers['x-dream-event']).toBe('deployment.state');
        expect(JSON.parse(g.body).app).toBe('site');
      }
      expect(new Set(got.map((g) => g.headers['x-dream-delivery'])).size).toBe(got.length);
      void t;
    } finally {
      server.close();
    }
  });
});
