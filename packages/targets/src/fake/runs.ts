// One-off runs of the FakeTarget: local processes (argv, never a shell string) standing in for
// containers, so `dream run` works end to end without Docker. Detached runs start at once and their
// output lines go to the fake's log; attached runs are only an argv (`env -- K=V… cmd…`) that the api
// starts in its pty.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import readline from 'node:readline';
import type { RunHandle, RunSpec } from '@dreamnet/core';

type Emit = (app: string, id: string, stream: 'stdout' | 'stderr', line: string) => void;

interface Run { app: string; child?: ChildProcess; running: boolean }

export class FakeRuns {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly emit: Emit) {}

  start(spec: RunSpec, onExit: () => void): RunHandle {
    // Hex like a container id: the api names runs by the first 12 characters.
    const id = crypto.randomBytes(16).toString('hex');
    const attach = ['env', '--', ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), ...spec.cmd];
    const run: Run = { app: spec.app, running: false };
    this.runs.set(id, run);
    if (spec.detach) {
      const child = spawn(spec.cmd[0]!, spec.cmd.slice(1), { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      run.child = child;
      run.running = true;
      // Ended once the process exited and both outputs were read to the last line, so followers
      // (logs with replicaId) see every line before they end.
      let pending = 3;
      const done = () => { if (--pending === 0) { run.running = false; onExit(); } };
      for (const stream of ['stdout', 'stderr'] as const) {
        const rl = readline.createInterface({ input: child[stream]! });
        rl.on('line', (line) => this.emit(spec.app, id, stream, line));
        rl.on('close', done);
      }
      child.on('close', done);
      child.on('error', (e) => { this.emit(spec.app, id, 'stderr', String(e)); });
    }
    return { id, attach };
  }

  running(id: string): boolean { return this.runs.get(id)?.running === true; }

  /** The app a run belongs to. */
  of(id: string): string | undefined { return this.runs.get(id)?.app; }

  remove(id: string): void {
    const r = this.runs.get(id);
    if (!r) return;
    if (r.running) r.child?.kill('SIGKILL');
    r.running = false;
    this.runs.delete(id);
  }
}
