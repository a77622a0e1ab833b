// The SDK's route table against the api's own /v1/openapi.json: every route the SDK calls exists with
// that method, its query parameters and JSON body fields are exactly the documented ones, and every
// public /v1 route of the api is in the SDK. So the two cannot drift apart unnoticed.
import { describe, expect, it } from 'vitest';
import { fingerprint } from '@dreamnet/core';
import { testApi } from '../../../apps/api/src/test-support.js';
import { ROUTES } from './routes.js';
import { envFingerprint } from './provider.js';

type Op = { parameters?: { in: string; name: string }[]; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } };

const openapiPath = (p: string) => p.replace(/:([a-z]+)/g, '{$1}');
// Not for SDK users: machine routes, git smart-HTTP, WebSockets, backup/restore, metrics, webhooks.
const NOT_IN_SDK = /^\/(v1\/internal|git|metrics|healthz|v1\/admin)|\/webhooks\/|\/(logs|shell|run|runs|tickets)$/;

describe('SDK routes match /v1/openapi.json', async () => {
  const t = await testApi();
  const doc = (await t.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json() as { paths: Record<string, Record<string, Op>> };

  it.each(Object.entries(ROUTES))('%s', (_name, spec) => {
    const op = doc.paths[openapiPath(spec.path)]?.[spec.method.toLowerCase()];
    expect(op, `${spec.method} ${spec.path} is in the api`).toBeDefined();
    const query = (op!.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name).sort();
    expect(query).toEqual([...('query' in spec ? spec.query : [])].sort());
    const json = op!.requestBody?.content['application/json']?.schema.properties;
    expect(Object.keys(json ?? {}).sort()).toEqual([...('body' in spec ? spec.body : [])].sort());
  });

  it('every user-facing api route is in the SDK', () => {
    const sdk = new Set(Object.values(ROUTES).map((r) => `${r.method} ${openapiPath(r.path)}`));
    const api = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => m !== 'head').map((m) => `${m.toUpperCase()} ${p}`));
    const missing = api.filter((k) => !sdk.has(k) && !NOT_IN_SDK.test(k.split(' ')[1]!.replace(/\{[a-z]+\}/g, 'x')));
    expect(missing).toEqual([]);
  });

  it('the fingerprint the provider compares env values with is the api\'s', () => {
    for (const v of ['', 'v', 'postgres://u:p@h/db', 'ünïcode']) expect(envFingerprint(v)).toBe(fingerprint(v));
  });
});
