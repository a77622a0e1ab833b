// Tiny argv-only process helpers for the set-up scripts (never a shell string).
import { spawn, type SpawnOptions } from 'node:child_process';

export function run(cmd: string, args: string[], opts: SpawnOptions & { quiet?: boolean } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: opts.quiet ? 'ignore' : 'inherit', ...opts });
    p.on('error', reject);
    p.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

export async function must(cmd: string, args: string[], opts: SpawnOptions & { quiet?: boolean } = {}): Promise<void> {
  const code = await run(cmd, args, opts);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}`);
}

/** Runs `a | b` with argv arrays. */
export function pipe(a: [string, string[]], b: [string, string[]]): Promise<void> {
  return new Promise((resolve, reject) => {
    const pa = spawn(a[0], a[1], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pb = spawn(b[0], b[1], { stdio: ['pipe', 'inherit', 'inherit'] });
    pa.stdout!.pipe(pb.stdin!);
    let left = 2; let failed = '';
    const done = (name: string) => (code: number | null) => {
      if (code !== 0) failed ||= `${name} exited with ${code}`;
      if (--left === 0) (failed ? reject(new Error(failed)) : resolve());
    };
    pa.on('error', reject); pb.on('error', reject);
    pa.on('exit', done(a[0])); pb.on('exit', done(b[0]));
  });
}
