// Memory of a process tree from /proc (Linux): VmRSS, RssAnon, RssFile, PSS per tree, and the
// distinct physical pages several trees occupy together (from /proc/PID/pagemap).
import fs from 'node:fs';

/** Kilobytes. rss = anon + file + shmem; pss = each resident page divided by how many processes map it. */
export interface Mem { rss: number; anon: number; file: number; pss: number }

export function procMem(pid: number): Mem {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  let pss = 0;
  try { pss = kb(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss'); } catch { /* kernel < 4.14 */ }
  return { rss: kb(status, 'VmRSS'), anon: kb(status, 'RssAnon'), file: kb(status, 'RssFile'), pss };
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

/** `pid` and every descendant (the container's init and node; tsx's esbuild service, if any). */
export function tree(pid: number): number[] {
  const out = [pid];
  for (const c of children(pid)) out.push(...tree(c));
  return out;
}

export function treeMem(pid: number): Mem & { pids: number[] } {
  const pids = tree(pid);
  const sum: Mem = { rss: 0, anon: 0, file: 0, pss: 0 };
  for (const p of pids) {
    try {
      const m = procMem(p);
      for (const k of Object.keys(sum) as (keyof Mem)[]) sum[k] += m[k];
    } catch { /* exited */ }
  }
  return { ...sum, pids };
}

const PAGE_KB = 4;
const PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;

/**
 * Kilobytes of distinct physical pages resident in any of `pids`: a page of the node binary that all
 * of them map counts once, an anonymous page counts for its one owner. This is what the processes
 * occupy together, whoever else (app containers running the same node binary) maps the same files.
 * Needs CAP_SYS_ADMIN (the kernel hides page frame numbers otherwise): returns null then.
 */
export function distinctKb(pids: number[]): number | null {
  const frames = new Set<bigint>();
  for (const pid of pids) {
    let maps: string; let fd: number;
    try { maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8'); fd = fs.openSync(`/proc/${pid}/pagemap`, 'r'); } catch { continue; }
    try {
      for (const line of maps.split('\n')) {
        const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4})/.exec(line);
        // Reserved, inaccessible ranges (V8's cage, malloc arena tails) hold no pages; skip them.
        if (!m || m[3] === '---p' || line.endsWith('[vsyscall]')) continue;
        const start = parseInt(m[1]!, 16) / 4096; const end = parseInt(m[2]!, 16) / 4096;
        for (let page = start; page < end; page += 8192) {
          const n = Math.min(8192, end - page);
          const buf = Buffer.alloc(n * 8);
          const got = fs.readSync(fd, buf, 0, buf.length, page * 8);
          for (let i = 0; i + 8 <= got; i += 8) {
            const e = buf.readBigUInt64LE(i);
            if (!(e & PRESENT)) continue;
            const pfn = e & PFN_MASK;
            if (pfn === 0n) return null;
            frames.add(pfn);
          }
        }
      }
    } finally { fs.closeSync(fd); }
  }
  return frames.size * PAGE_KB;
}
