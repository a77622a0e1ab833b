// Prints the footprint table: per process VmRSS, RssAnon, RssFile, PSS; then the plain RSS sum and
// what the three occupy together (each physical page once). Why both: see README.md.
import { distinctKb, treeMem, type Mem } from './mem.js';

const TARGET_MB = 120;
const mb = (kb: number) => (kb / 1024).toFixed(1).padStart(7);

export function report(title: string, roots: Record<string, number>): void {
  const rows = Object.entries(roots).map(([name, pid]) => ({ name, ...treeMem(pid) }));
  const sum: Mem = { rss: 0, anon: 0, file: 0, pss: 0 };
  for (const r of rows) for (const k of Object.keys(sum) as (keyof Mem)[]) sum[k] += r[k];
  const together = distinctKb(rows.flatMap((r) => r.pids));

  console.log(`\nidle footprint, ${title} (MB):`);
  console.log(`  ${'process'.padEnd(8)} ${'VmRSS'.padStart(7)} ${'RssAnon'.padStart(7)} ${'RssFile'.padStart(7)} ${'PSS'.padStart(7)}`);
  for (const r of rows) console.log(`  ${r.name.padEnd(8)} ${mb(r.rss)} ${mb(r.anon)} ${mb(r.file)} ${mb(r.pss)}   (${r.pids.length} process${r.pids.length === 1 ? '' : 'es'})`);
  console.log(`  ${'sum'.padEnd(8)} ${mb(sum.rss)} ${mb(sum.anon)} ${mb(sum.file)} ${mb(sum.pss)}`);
  console.log('');
  console.log(`  sum of VmRSS:      ${mb(sum.rss)} MB  counts the node binary and shared libraries once per process`);
  console.log(`  sum of PSS:        ${mb(sum.pss)} MB  divides shared pages among every process mapping them, app containers and other node processes too`);
  if (together === null) {
    console.log(`  together:          (page frame numbers hidden: run as root to count distinct pages; sum of PSS is a lower bound)`);
  } else {
    console.log(`  together:          ${mb(together)} MB  distinct physical pages of the three: private memory + shared file pages counted once`);
    console.log(`  target ≤ ${TARGET_MB} MB together: ${together / 1024 <= TARGET_MB ? 'met' : 'NOT met'}`);
  }
  console.log('');
}
