// The one suite every Target must pass (docs/target-contract.md). Call it from a test file:
//   targetContract('fake', async () => ({ target, goodSpec, badSpec, cleanup }));
// Each case uses its own app name (`<prefix>-<case>`), so cases never see each other's replicas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDreamError, type Endpoint, type ReleaseSpec, type Target } from '@dreamnet/core';
import { optionalMethodCases } from './contract-optional.js';

export interface ContractSetup {
  target: Target;
  /** A spec that becomes healthy; with `probe`, every endpoint answers the body `v<version>`. */
  goodSpec(app: string, releaseId: string, version: number): ReleaseSpec;
  /** A spec that never becomes healthy. */
  badSpec(app: string, releaseId: string, version: number): ReleaseSpec;
  cleanup(): Promise<void>;
  /** Real targets: GET the endpoint and return the body, so "serving" means a user gets an answer. */
  probe?(endpoint: Endpoint): Promise<string>;
  /** Prefix for app names (default "tt"). */
  appPrefix?: string;
}

export function targetContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`Target contract: ${name}`, () => {
    let s: ContractSetup;
    const apps: string[] = [];
    const app = (c: string) => { const a = `${s.appPrefix ?? 'tt'}-${c}`; apps.push(a); return a; };
    const good = (a: string, r: string, v: number, replicas = 1) => ({ ...s.goodSpec(a, r, v), replicas });
    const ids = async (a: string) => (await s.target.inventory()).filter((i) => i.app === a).map((i) => i.id).sort();

    /** Every endpoint is of `releaseId` and, for real targets, answers `v<version>`. */
    async function expectServing(eps: Endpoint[], releaseId: string, version: number, count: number) {
      expect(eps.map((e) => e.releaseId)).toEqual(Array(count).fill(releaseId));
      expect(eps.map((e) => e.replica).sort()).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      if (s.probe) for (const e of eps) expect(await s.probe(e)).toBe(`v${version}`);
    }

    beforeAll(async () => { s = await setup(); });
    afterAll(async () => {
      for (const a of apps) await s.target.remove(a);
      await s.cleanup();
    });

    it('apply makes endpoints that serve the release', async () => {
      const a = app('apply');
      const progress: string[] = [];
      const rollout = await s.target.apply(good(a, 'r1', 1, 2), { onProgress: (l) => progress.push(l) });
      expect(rollout.releaseId).toBe('r1');
      await expectServing(rollout.endpoints, 'r1', 1, 2);
      await expectServing(await s.target.endpoints(a), 'r1', 1, 2);
      expect(progress.some((l) => /healthy/.test(l))).toBe(true);
    });

    it('apply twice is idempotent: same replicas, no duplicates', async () => {
      const a = app('idem');
      await s.target.apply(good(a, 'r1', 1, 2));
      const before = await ids(a);
      expect(before).toHaveLength(2);
      await s.target.apply(good(a, 'r1', 1, 2));
      expect(await ids(a)).toEqual(before);
      await expectServing(await s.target.endpoints(a), 'r1', 1, 2);
    });

    it('a second release replaces the first only after switchTraffic got the new endpoints', async () => {
      const a = app('switch');
      const old = (await s.target.apply(good(a, 'r1', 1))).endpoints;
      const seen: Endpoint[][] = [];
      const rollout = await s.target.apply(good(a, 'r2', 2), {
        switchTraffic: async (eps) => {
          seen.push(eps);
          // At the moment of the switch the new release serves and the old one still does.
          await expectServing(eps, 'r2', 2, 1);
          await expectServing(old, 'r1', 1, 1);
          const inv = (await s.target.inventory()).filter((i) => i.app === a);
          expect(inv.map((i) => i.releaseId).sort()).toEqual(['r1', 'r2']);
        },
      });
      expect(seen).toHaveLength(1);
      expect(rollout.endpoints).toEqual(seen[0]);
      await expectServing(await s.target.endpoints(a), 'r2', 2, 1);
      expect((await s.target.inventory()).filter((i) => i.app === a).map((i) => i.releaseId)).toEqual(['r2']);
    });

    it('a bad release throws HEALTH_CHECK_FAILED and the old release keeps serving', async () => {
      const a = app('bad');
      await s.target.apply(good(a, 'r1', 1));
      let switched = false;
      const err = await s.target.apply(s.badSpec(a, 'r2', 2), { switchTraffic: async () => { switched = true; } })
        .then(() => null, (e: unknown) => e);
      expect(isDreamError(err) && err.code).toBe('HEALTH_CHECK_FAILED');
      expect(String((err as Error).message).length).toBeGreaterThan(10);
      expect(switched).toBe(false);
      await expectServing(await s.target.endpoints(a), 'r1', 1, 1);
      expect((await s.target.inventory()).filter((i) => i.app === a).map((i) => i.releaseId)).toEqual(['r1']);
    });

    it('when switchTraffic fails the new replicas go and the old release keeps serving', async () => {
      const a = app('noswitch');
      await s.target.apply(good(a, 'r1', 1));
      const err = await s.target.apply(good(a, 'r2', 2), { switchTraffic: async () => { throw new Error('proxy gone'); } })
        .then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      await expectServing(await s.target.endpoints(a), 'r1', 1, 1);
      expect((await s.target.inventory()).filter((i) => i.app === a).map((i) => i.releaseId)).toEqual(['r1']);
    });

    it.each(['started', 'healthy'])('apply stops when hooks.signal aborts (at the first "%s"): throws its reason, removes what it started, old release keeps serving', async (at) => {
      const a = app(`cancel-${at}`);
      await s.target.apply(good(a, 'r1', 1));
      const before = await ids(a);
      const ctl = new AbortController();
      const reason = new Error('the app is being deleted');
      let switched = false;
      const err = await s.target.apply(good(a, 'r2', 2, 2), {
        signal: ctl.signal,
        onProgress: (l) => { if (l.includes(at)) ctl.abort(reason); },
        switchTraffic: async () => { switched = true; },
      }).then(() => null, (e: unknown) => e);
      expect(err).toBe(reason);
      expect(switched).toBe(false);
      expect(await ids(a)).toEqual(before);
      await expectServing(await s.target.endpoints(a), 'r1', 1, 1);
    });

    it('remove during an apply of the app waits for it and then leaves nothing, not even what it started', async () => {
      const a = app('rmduring');
      let removing: Promise<void> | undefined;
      const rollout = await s.target.apply(good(a, 'r1', 1, 2), {
        onProgress: (l) => { if (/started/.test(l)) removing ??= s.target.remove(a); },
      });
      expect(rollout.releaseId).toBe('r1');
      await removing;
      expect(await ids(a)).toEqual([]);
      expect(await s.target.endpoints(a)).toEqual([]);
    });

    it('scales up and down through replicas, keeping existing replicas', async () => {
      const a = app('scale');
      await s.target.apply(good(a, 'r1', 1, 1));
      const [first] = await ids(a);
      await s.target.apply(good(a, 'r1', 1, 3));
      await expectServing(await s.target.endpoints(a), 'r1', 1, 3);
      expect(await ids(a)).toContain(first);
      const down = await s.target.apply(good(a, 'r1', 1, 1));
      await expectServing(down.endpoints, 'r1', 1, 1);
      await expectServing(await s.target.endpoints(a), 'r1', 1, 1);
      expect(await ids(a)).toEqual([first]);
    });

    it('prune keeps only the given release', async () => {
      const a = app('prune');
      await s.target.apply(good(a, 'r1', 1));
      const before = await ids(a);
      await s.target.prune(a, 'r1');
      expect(await ids(a)).toEqual(before);
      await s.target.prune(a, 'r-other');
      expect(await ids(a)).toEqual([]);
      await s.target.prune(a, null);
    });

    it('remove leaves nothing of the app and no other app is touched', async () => {
      const a = app('remove');
      const other = app('keep');
      await s.target.apply(good(a, 'r1', 1, 2));
      await s.target.apply(good(other, 'r1', 1));
      await s.target.remove(a);
      expect(await ids(a)).toEqual([]);
      expect(await s.target.endpoints(a)).toEqual([]);
      await s.target.remove(a); // idempotent
      await expectServing(await s.target.endpoints(other), 'r1', 1, 1);
    });

    it('status counts healthy replicas', async () => {
      const a = app('status');
      await s.target.apply(good(a, 'r1', 1, 2));
      const st = await s.target.status(a);
      expect(st).toMatchObject({ app: a, releaseId: 'r1', healthy: 2, crashLooping: false });
      expect(st.replicas.map((r) => [r.replica, r.state]).sort()).toEqual([[1, 'running'], [2, 'running']]);
      const none = await s.target.status(app('nothing'));
      expect(none).toMatchObject({ releaseId: null, healthy: 0, replicas: [], crashLooping: false });
    });

    // Optional methods (dream shell / dream run and the api's log collector): checked when present.
    optionalMethodCases({ setup: () => s, app, good });
  });
}
