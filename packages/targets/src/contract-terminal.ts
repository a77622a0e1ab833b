// For the contract: run an argv (attachArgv / RunHandle.attach) in a real pseudo-terminal, as the api
// does for `dream shell` / `dream run`, and return what it printed and its exit code.
import { spawn } from 'node-pty';

export function inTerminal(argv: string[], cols = 80, rows = 24, ms = 30_000): Promise<{ output: string; code: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { name: 'xterm', cols, rows, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', TERM: 'xterm' } });
    let output = '';
    const timer = setTimeout(() => { p.kill(); reject(new Error(`${argv.join(' ')} did not exit within ${ms} ms; printed ${JSON.stringify(output)}`)); }, ms);
    p.onData((d) => { output += d; });
    p.onExit(({ exitCode }) => { clearTimeout(timer); setTimeout(() => resolve({ output, code: exitCode }), 50); });
  });
}
