import { describe, expect, it } from 'vitest';
import { isDreamError, type ReleaseSpec } from '@dreamnet/core';
import { targetContract } from '../contract.js';
import { FakeTarget } from './fake.js';

function spec(app: string, releaseId: string, version: number, image = `img:${version}`): ReleaseSpec {
  return { app, releaseId, version, image, env: { V: String(version) }, replicas: 1, port: 5000,
    healthCheck: { path: null, timeoutMs: 1000 }, limits: { memoryMb: 128, cpus: 0.5 } };
}

targetContract('fake', async () => {
  const target = new FakeTarget();
  target.failHealthFor('img:bad');
  return {
    target,
    goodSpec: (a, r, v) => spec(a, r, v),
    badSpec: (a, r, v) => spec(a, r, v, 'img:bad'),
    cleanup: async () => {},
  };
});

describe('FakeTarget controls', () => {
  it('failHealthFor makes apply throw HEALTH_CHECK_FAILED until healed', async () => {
    const t = new FakeTarget();
    t.failHealthFor('img:1');
    const err = await t.apply(spec('a', 'r1', 1)).catch((e: unknown) => e);
    expect(isDreamError(err) && err.code).toBe('HEALTH_CHECK_FAILED');
    expect(await t.inventory()).toEqual([]);
    t.heal('img:1');
    expect((await t.apply(spec('a', 'r1', 1))).endpoints).toEqual([{ host: '127.0.0.1', port: 1, releaseId: 'r1', replica: 1 }]);
  });

  it('hands out addresses from options.address and records switches', async () => {
    const t = new FakeTarget({ address: (_s, r) => ({ host: '127.0.0.1', port: 4000 + r }) });
    await t.apply({ ...spec('a', 'r1', 1), replicas: 2 });
    expect((await t.endpoints('a')).map((e) => e.port)).toEqual([4001, 4002]);
    expect(t.switches).toHaveLength(1);
  });

  it('crash() makes status report a crash loop', async () => {
    const t = new FakeTarget();
    await t.apply(spec('a', 'r1', 1));
    t.crash('a');
    const st = await t.status('a');
    expect(st.crashLooping).toBe(true);
    expect(st.healthy).toBe(0);
    expect(st.replicas[0]).toMatchObject({ state: 'crash-loop', restartCount: 3, exitCode: 1 });
  });

  it('logs yields printed lines, tail and follow', async () => {
    const t = new FakeTarget();
    await t.apply(spec('a', 'r1', 1));
    t.print('a', 'hello');
    const got: string[] = [];
    for await (const l of t.logs('a', { tail: 1 })) got.push(l.line);
    expect(got).toEqual(['hello']);
    const it = t.logs('a', { follow: true, tail: 0 })[Symbol.asyncIterator]();
    const next = it.next();
    t.print('a', 'later', 1, 'stderr');
    expect((await next).value).toMatchObject({ line: 'later', stream: 'stderr', replica: 1 });
    await it.return?.();
  });

  it('exec runs the handler and needs a running replica', async () => {
    const t = new FakeTarget();
    await expect(t.exec('a', ['echo', 'hi'], false)).rejects.toThrow();
    await t.apply(spec('a', 'r1', 1));
    const s = await t.exec('a', ['echo', 'hi'], false);
    let out = '';
    for await (const c of s.output) out += String(c);
    expect(out).toBe('hi\n');
    expect(await s.exit).toBe(0);
  });
});
