// The contract's cases for the optional Target methods (dream run / dream shell and the api's log
// collector): each is skipped when the target lacks the method, and run as written when it has it.
import { expect, it } from 'vitest';
import { isDreamError, type LogLine, type LogQuery, type ReleaseSpec, type RunSpec } from '@dreamnet/core';
import type { ContractSetup } from './contract.js';
import { inTerminal } from './contract-terminal.js';

export interface ContractCase {
  /** The setup, once beforeAll ran. */
  setup(): ContractSetup;
  /** A fresh app name for this case (removed after the suite). */
  app(c: string): string;
  good(a: string, r: string, v: number, replicas?: number): ReleaseSpec;
}

export function optionalMethodCases(ctx: ContractCase): void {
  /** A RunSpec from the good release's image and limits. */
  const runSpec = (a: string, cmd: string[], detach: boolean): RunSpec => {
    const g = ctx.setup().goodSpec(a, 'r1', 1);
    return { app: a, image: g.image, env: { GREETING: 'hello' }, cmd, limits: g.limits, detach };
  };
  /** Every line of logs(app, q), failing instead of hanging if the iterable never ends. */
  async function collect(a: string, q: LogQuery, ms = 30_000): Promise<LogLine[]> {
    const out: LogLine[] = [];
    const it = ctx.setup().target.logs(a, q)[Symbol.asyncIterator]();
    const deadline = Date.now() + ms;
    for (;;) {
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())).unref());
      const r = await Promise.race([it.next(), timer]);
      if (r === 'timeout') { await it.return?.(); throw new Error(`logs(${JSON.stringify(q)}) did not end within ${ms} ms; got ${JSON.stringify(out)}`); }
      if (r.done) return out;
      out.push(r.value);
    }
  }
  const codeOf = (e: unknown) => (isDreamError(e) ? e.code : String(e));

  it('run (detached): logs({ replicaId, follow }) yields its output and ends when it stops; sinceAt is inclusive; never in inventory', async (t) => {
    const { target } = ctx.setup();
    if (!target.run || !target.removeRun) return t.skip();
    const a = ctx.app('rundetach');
    const h = await target.run(runSpec(a, ['sh', '-c', 'echo "$GREETING one"; sleep 1; echo two >&2'], true));
    expect(typeof h.id).toBe('string');
    expect((await target.inventory()).map((i) => i.id)).not.toContain(h.id);
    const lines = await collect(a, { replicaId: h.id, follow: true });
    expect(lines.map((l) => [l.stream, l.line])).toEqual([['stdout', 'hello one'], ['stderr', 'two']]);
    expect(lines[0]!.at < lines[1]!.at || Date.parse(lines[0]!.at) < Date.parse(lines[1]!.at)).toBe(true);
    // Resume after a restart: sinceAt is the last stored time, inclusive.
    expect((await collect(a, { replicaId: h.id, sinceAt: lines[1]!.at })).map((l) => l.line)).toEqual(['two']);
    expect((await collect(a, { replicaId: h.id, sinceAt: lines[0]!.at })).map((l) => l.line)).toEqual(['hello one', 'two']);
    await target.removeRun(h.id);
    await target.removeRun(h.id); // idempotent
  });

  it('logs({ replicaId }) of something that is not the app\'s is NOT_FOUND', async (t) => {
    const { target } = ctx.setup();
    if (!target.run || !target.removeRun) return t.skip();
    const h = await target.run(runSpec(ctx.app('runmine'), ['true'], false));
    const err = await collect(ctx.app('runother'), { replicaId: h.id }).then(() => null, (e: unknown) => e);
    expect(codeOf(err)).toBe('NOT_FOUND');
    await target.removeRun(h.id);
  });

  it('run (attached): the attach argv starts it in a terminal with the config; its exit code comes back', async (t) => {
    const { target } = ctx.setup();
    if (!target.run || !target.removeRun) return t.skip();
    const a = ctx.app('runattach');
    const h = await target.run(runSpec(a, ['sh', '-c', 'echo "attached $GREETING"; exit 4'], false));
    expect(h.attach.length).toBeGreaterThan(0);
    const r = await inTerminal(h.attach);
    expect(r.output).toContain('attached hello');
    expect(r.code).toBe(4);
    await target.removeRun(h.id);
    await target.removeRun(h.id);
    expect(codeOf(await target.run(runSpec(a, [], false)).then(() => null, (e: unknown) => e))).toBe('VALIDATION_FAILED');
  });

  it('attachArgv runs a command in a running replica in a terminal (exit code back) and refuses what cannot run', async (t) => {
    const { target } = ctx.setup();
    if (!target.attachArgv) return t.skip();
    const a = ctx.app('attach');
    await target.apply(ctx.good(a, 'r1', 1, 2));
    // `docker exec -it` sizes the terminal just after the command starts (a known engine race),
    // so the command waits a moment before asking; an interactive shell never notices.
    const argv = await target.attachArgv(a, ['sh', '-c', 'echo in-$((40+2)); sleep 1; stty size; exit 3'], { replica: 2 });
    const r = await inTerminal(argv, 100, 30);
    expect(r.output).toContain('in-42');
    expect(r.output).toContain('30 100');
    expect(r.code).toBe(3);
    expect(codeOf(await target.attachArgv(a, []).then(() => null, (e: unknown) => e))).toBe('VALIDATION_FAILED');
    expect(codeOf(await target.attachArgv(a, ['sh'], { replica: 5 }).then(() => null, (e: unknown) => e))).toBe('NO_RELEASE');
    expect(codeOf(await target.attachArgv(ctx.app('attachnone'), ['sh']).then(() => null, (e: unknown) => e))).toBe('NO_RELEASE');
  });
}
