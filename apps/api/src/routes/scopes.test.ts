// Every route, every scope: missing token → 401, a token one scope too low → 403, a token limited to
// another app → 403, and the required scope gets past authorization. The expected scope of each route
// is written down here (and in docs/scopes.md), so a new route without a rule fails this test.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testApi } from '../test-support.js';

type Need = 'read' | 'deploy' | 'admin';
const ADMIN = new Set(['DELETE /v1/apps/:app', 'POST /v1/tokens', 'GET /v1/tokens', 'DELETE /v1/tokens/:id', 'PUT /v1/apps/:app/hooks', 'GET /v1/admin/backup', 'POST /v1/admin/restore']);
const READ_POSTS = new Set(['POST /git/:repo/git-upload-pack', 'POST /v1/apps/:app/tickets']); // a fetch; receive-pack (push) needs deploy, checked in the route
// WebSocket upgrades are GETs authorized in their own hook: a shell or a one-off run needs deploy.
const DEPLOY_GETS = new Set(['GET /v1/apps/:app/shell', 'GET /v1/apps/:app/run']);
const BELOW: Record<Need, Need | null> = { read: null, deploy: 'read', admin: 'deploy' };

function need(key: string, method: string): Need {
  if (ADMIN.has(key)) return 'admin';
  if (READ_POSTS.has(key)) return 'read';
  if (DEPLOY_GETS.has(key)) return 'deploy';
  return method === 'GET' ? 'read' : 'deploy';
}
const concrete = (url: string) => url.replace(':app', 'hello').replace(':repo', 'hello.git').replace(':id', url.includes('tokens') ? 'tok_0123456789ab' : 'dep_0123456789abcdef');

describe('scope rules of every route', () => {
  it('missing → 401, insufficient scope or other app → 403, required scope → past auth', async () => {
    const t = await testApi();
    await t.app.ready();
    const tokens = {
      read: t.store.tokens.create('r', 'read').token,
      deploy: t.store.tokens.create('d', 'deploy').token,
      admin: t.store.tokens.create('a', 'admin').token,
      otherApp: t.store.tokens.create('o', 'admin', ['other']).token,
    };
    // Socket routes (logs tail, shell, run) authenticate in their own hook: the same rules apply.
    const routes = t.app.routeList.filter((r) => !r.url.startsWith('/documentation') && (r.auth === 'user' || r.auth === 'socket'));
    expect(routes.length).toBeGreaterThan(25);
    expect(routes.filter((r) => r.auth === 'socket').map((r) => r.url).sort()).toEqual(['/v1/apps/:app/logs', '/v1/apps/:app/run', '/v1/apps/:app/shell']);
    const call = (method: string, url: string, token?: string) => t.app.inject({
      method: method as 'GET', url: concrete(url),
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      payload: method === 'GET' || method === 'DELETE' ? undefined : '{}',
    });
    const docs = fs.readFileSync(new URL('../../../../docs/scopes.md', import.meta.url), 'utf8');
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      const scope = need(key, r.method);
      if (r.auth === 'socket') expect(docs, `docs/scopes.md names ${key}`).toMatch(new RegExp(`\`[^\`]*${r.url.split('/').pop()}\` [^.]*WebSocket upgrades`));
      else expect(docs, `docs/scopes.md lists ${key}`).toContain(`| \`${key}\` | ${scope} |`);
      expect((await call(r.method, r.url)).statusCode, `${key} without a token`).toBe(401);
      const below = BELOW[scope];
      if (below) {
        const res = await call(r.method, r.url, tokens[below]);
        expect(res.statusCode, `${key} with a ${below} token`).toBe(403);
        expect(res.json().code).toBe('FORBIDDEN');
      }
      if (r.url.includes(':app') || r.url.includes(':repo')) {
        const res = await call(r.method, r.url, tokens.otherApp);
        expect(res.statusCode, `${key} with a token for another app`).toBe(403);
      }
      if (key === 'POST /v1/apps') { // the app is named in the body
        const res = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: { authorization: `Bearer ${tokens.otherApp}` }, payload: { name: 'hello' } });
        expect(res.statusCode, `${key} of an app outside the token's list`).toBe(403);
      }
      // Destructive admin routes are not called with a valid token here (restore would replace the db).
      if (key === 'POST /v1/admin/restore') continue;
      const ok = await call(r.method, r.url, tokens[scope]);
      expect([401, 403], `${key} with a ${scope} token: ${ok.body.slice(0, 200)}`).not.toContain(ok.statusCode);
    }
    expect(t.store.apps.list()).toEqual([]);
  });

  it('webhook routes take no token: an unsigned delivery is 401 UNAUTHENTICATED, and they are listed in docs/scopes.md', async () => {
    const t = await testApi();
    await t.app.ready();
    const hooks = t.app.routeList.filter((r) => r.auth === 'webhook');
    expect(hooks.map((r) => r.url).sort()).toEqual(['/v1/apps/:app/webhooks/gitea', '/v1/apps/:app/webhooks/github', '/v1/apps/:app/webhooks/gitlab']);
    const docs = fs.readFileSync(new URL('../../../../docs/scopes.md', import.meta.url), 'utf8');
    for (const r of hooks) {
      expect(docs).toContain(`| \`POST ${r.url}\` | signature |`);
      const res = await t.app.inject({ method: 'POST', url: concrete(r.url), headers: { ...t.auth, 'content-type': 'application/json' }, payload: '{}' });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('UNAUTHENTICATED');
    }
  });
});
