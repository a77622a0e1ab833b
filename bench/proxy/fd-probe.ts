// The fd-limit probe's cost: the timer runs it once a second in every worker. 7 rounds of 10 000
// probes (FdLimit's private probe()), µs a probe. `npx tsx bench/proxy/fd-probe.ts [module]`: another
// fd-limit.ts to compare against (e.g. `git show <rev>:apps/proxy/src/fd-limit.ts > /tmp/old.ts`).
import path from 'node:path';
import { pino } from 'pino';

const file = process.argv[2] ? path.resolve(process.argv[2]) : new URL('../../apps/proxy/src/fd-limit.ts', import.meta.url).pathname;
const { FdLimit } = await import(file) as typeof import('../../apps/proxy/src/fd-limit.js');
const f = new FdLimit(pino({ level: 'silent' }), 3_600_000) as unknown as { probe(): void; close(): void };
for (let i = 0; i < 2000; i++) f.probe();
const per: number[] = [];
for (let r = 0; r < 7; r++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < 10_000; i++) f.probe();
  per.push(Number(process.hrtime.bigint() - t) / 10_000 / 1000);
}
f.close();
per.sort((a, b) => a - b);
console.log(`${path.basename(file)}: µs a probe over 7×10 000: min ${per[0]!.toFixed(2)} median ${per[3]!.toFixed(2)} max ${per[6]!.toFixed(2)}`);
