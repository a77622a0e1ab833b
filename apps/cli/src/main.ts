// Entry point: the real process → run(). The only file that reads process.* .
import { exitWhenOutputGone } from './output-gone.js';
import { run } from './run.js';

exitWhenOutputGone(process.stdout, process.stderr, (code) => process.exit(code));

const code = await run(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  stdin: process.stdin,
  now: () => new Date(),
  ...(process.stdout.isTTY ? {
    tty: {
      size: () => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 }),
      onResize: (fn: () => void) => { process.on('SIGWINCH', fn); return () => { process.off('SIGWINCH', fn); }; },
    },
  } : {}),
});
process.exitCode = code;
