// Test helpers that hold a step of the deploy pipeline mid-way, as a real target is held by its
// health wait or the builder by a long `RUN`: the step waits at a gate until release() — or until its
// signal aborts, then it throws the reason, like the real thing does.
import type { ApplyHooks, ReleaseSpec } from '@dreamnet/core';
import type { FakeTarget } from '@dreamnet/targets';
import type { BuildService } from './deploy/types.js';

/** Resolves when `signal` aborts (never, without a signal). */
export function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** A gate: `reached` once something waits at it; the waiter goes on at release() or when its signal aborts. */
export function gate() {
  let release!: () => void;
  const open = new Promise<void>((r) => { release = r; });
  let reach!: () => void;
  const reached = new Promise<void>((r) => { reach = r; });
  let sawAbort = false;
  const hold = async (signal: AbortSignal | undefined) => {
    reach();
    await Promise.race([open, aborted(signal)]);
    if (signal?.aborted) sawAbort = true;
    signal?.throwIfAborted();
  };
  return { hold, reached, release, sawAbort: () => sawAbort };
}

/**
 * The next apply() stops before it starts replicas (`start`) or after they started, before traffic
 * switches (`switch`), until release() — or until its signal aborts, then it throws the reason.
 */
export function holdNextApply(target: FakeTarget, where: 'start' | 'switch') {
  const g = gate();
  const apply = target.apply.bind(target);
  target.apply = async (spec: ReleaseSpec, hooks: ApplyHooks = {}) => {
    target.apply = apply;
    if (where === 'start') { await g.hold(hooks.signal); return apply(spec, hooks); }
    return apply(spec, { ...hooks, switchTraffic: async (eps) => { await g.hold(hooks.signal); await hooks.switchTraffic?.(eps); } });
  };
  return { reached: g.reached, release: g.release, sawAbort: g.sawAbort };
}

/** The next build() prints a step and waits there (a long `RUN`) until release() or its signal aborts. */
export function holdNextBuild(builder: BuildService) {
  const g = gate();
  const build = builder.build.bind(builder);
  builder.build = async (req) => {
    builder.build = build;
    req.onLine('Step 2/3 : RUN a long install');
    await g.hold(req.signal);
    return build(req);
  };
  return { reached: g.reached, release: g.release, sawAbort: g.sawAbort };
}
