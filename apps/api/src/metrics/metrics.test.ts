import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { Sealer } from '@dreamnet/core';
import { openStore } from '../db/index.js';
import { source, testApi } from '../test-support.js';

describe('/metrics', () => {
  it('needs a read token not limited to apps, and reports deployments, durations, apps and requests', async () => {
    const t = await testApi();
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } });
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'idle' } });
    await t.deployer.deploySource('web', { context: () => source()() as never, description: 'test' });
    t.builder.failNext = 'boom';
    await t.deployer.deploySource('web', { context: () => source()() as never, description: 'test' });
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const limited = t.store.tokens.create('l', 'read', ['web']).token;
    expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${limited}` } })).statusCode).toBe(403);
    const read = t.store.tokens.create('prom', 'read').token;
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${read}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/^dream_deployments_total\{result="healthy"\} 1$/m);
    expect(text).toMatch(/^dream_deployments_total\{result="failed"\} 1$/m);
    expect(text).toMatch(/^dream_build_duration_seconds_count\{result="ok"\} 1$/m);
    expect(text).toMatch(/^dream_build_duration_seconds_count\{result="failed"\} 1$/m);
    expect(text).toMatch(/^dream_rollout_duration_seconds_count\{result="ok"\} 1$/m);
    expect(text).toMatch(/^dream_apps\{state="not_deployed"\} 1$/m);
    expect(text).toMatch(/^dream_api_http_requests_total\{method="POST",route="\/v1\/apps",status="201"\} 2$/m);
    expect(text).toMatch(/^dream_api_http_request_duration_seconds_count\{method="GET",route="\/metrics"\} \d+$/m);
  });

  it('keeps counting after a restore swaps the store\'s repositories', async () => {
    const t = await testApi();
    Object.assign(t.store, openStore(':memory:', new Sealer(crypto.randomBytes(32))));
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: { authorization: `Bearer ${t.store.tokens.create('a', 'admin').token}` }, payload: { name: 'web' } });
    await t.deployer.deploySource('web', { context: () => source()() as never, description: 'after restore' });
    const read = t.store.tokens.create('prom', 'read').token;
    const text = (await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${read}` } })).body;
    expect(text).toMatch(/^dream_deployments_total\{result="healthy"\} 1$/m);
  });
});
