// Pure-ish helpers: resident set size of a process and all its descendants, from /proc (Linux).
import fs from 'node:fs';

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export function children(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch { /* exited */ }
  }
  return out;
}

/** RSS of `pid` plus every descendant (e.g. tsx's esbuild service), in MB. */
export function treeRssMb(pid: number): { mb: number; processes: number } {
  let kb = 0; let n = 0;
  const walk = (p: number) => { kb += rssKb(p); n++; for (const c of children(p)) walk(c); };
  walk(pid);
  return { mb: Math.round(kb / 102.4) / 10, processes: n };
}
