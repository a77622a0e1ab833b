// A lock file shared by every process on one data dir (O_EXCL create), so two proxies never order
// the same name or register the same account at once. A holder refreshes the file's mtime while it
// works, so a lock whose mtime is older than `staleMs` belongs to a process that is gone. A holder
// on this machine whose pid no longer runs (killed, then restarted by its supervisor) is gone too,
// without waiting `staleMs`: otherwise a crash mid-order would block that name for minutes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';

interface Holder { pid: number; machine: string; nonce: string; at: string }

/** Who "this machine" is for pid checks: hostname + pid namespace (containers share hostnames). */
function machineId(): string {
  let ns = '';
  try { ns = fs.readlinkSync('/proc/self/ns/pid'); } catch { /* not Linux: hostname alone */ }
  return `${os.hostname()}/${ns}`;
}
const MACHINE = machineId();
/** Nonces of the locks this process holds: a lock file naming our pid but none of these is a previous run's. */
const held = new Set<string>();

function readHolder(f: string): Holder | undefined {
  try { return JSON.parse(fs.readFileSync(f, 'utf8')) as Holder; } catch { return undefined; }
}

// Our own pid in a lock we do not hold is a previous run's (pid 1 again after a container restart).
function pidGone(pid: number): boolean {
  try { process.kill(pid, 0); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'ESRCH'; }
}

/** The one rule for "this lock's holder is gone": not refreshed within staleMs, or a pid here that no longer runs. */
function abandoned(mtimeMs: number, h: Holder | undefined, staleMs: number): boolean {
  if (Date.now() - mtimeMs >= staleMs) return true;
  // A holder still writing its file (h undefined) is alive: it just created it.
  return Boolean(h && h.machine === MACHINE && (h.pid === process.pid ? !held.has(h.nonce) : pidGone(h.pid)));
}

function isStale(f: string, staleMs: number): { stale: boolean; nonce?: string } {
  let mtime: number;
  try { mtime = fs.statSync(f).mtimeMs; } catch { return { stale: false }; } // gone: just retry the create
  const h = readHolder(f);
  return { stale: abandoned(mtime, h, staleMs), nonce: h?.nonce };
}

/**
 * Whether a live holder has `f` (async: asked from TLS handshakes, which must not block the event
 * loop). A lock a killed process left behind is not held: nothing is being ordered under it.
 */
export async function lockHeld(f: string, staleMs: number): Promise<boolean> {
  let mtime: number;
  try { mtime = (await fs.promises.stat(f)).mtimeMs; } catch { return false; } // no lock: nobody orders it
  const h = await fs.promises.readFile(f, 'utf8').then((t) => JSON.parse(t) as Holder, () => undefined);
  return !abandoned(mtime, h, staleMs);
}

/**
 * Breaks `f` if it is still the stale lock we looked at. Two processes may find the same stale
 * lock: without the guard, the slower one would delete the lock the faster one just took.
 */
function breakStale(f: string, nonce: string | undefined, staleMs: number): void {
  const guard = `${f}.break`;
  try {
    fs.closeSync(fs.openSync(guard, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // A breaker that died holding the guard: the guard is only held for microseconds.
    try { if (Date.now() - fs.statSync(guard).mtimeMs > 10_000) fs.rmSync(guard, { force: true }); } catch { /* gone */ }
    return;
  }
  try {
    const again = isStale(f, staleMs);
    if (again.stale && again.nonce === nonce) fs.rmSync(f, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/** Takes the lock file `f`, or returns null when a live holder has it. The result releases it. */
export function tryLockFile(f: string, staleMs: number): (() => void) | null {
  for (let attempt = 0; attempt < 2; attempt++) {
    const nonce = crypto.randomBytes(8).toString('hex');
    let fd: number;
    try {
      fd = fs.openSync(f, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const s = isStale(f, staleMs);
      if (!s.stale) return null;
      breakStale(f, s.nonce, staleMs);
      continue;
    }
    held.add(nonce);
    try { fs.writeSync(fd, JSON.stringify({ pid: process.pid, machine: MACHINE, nonce, at: new Date().toISOString() } satisfies Holder)); } finally { fs.closeSync(fd); }
    // Heartbeat: a long order (slow CA, many authorizations) must not look abandoned.
    const beat = setInterval(() => { try { const t = new Date(); fs.utimesSync(f, t, t); } catch { /* broken by someone: release checks */ } }, Math.max(1000, staleMs / 4));
    beat.unref();
    return () => {
      clearInterval(beat);
      held.delete(nonce);
      // Only our own lock: if it was broken and taken meanwhile, the file is someone else's now.
      if (readHolder(f)?.nonce === nonce) fs.rmSync(f, { force: true });
    };
  }
  return null;
}
