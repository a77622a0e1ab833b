// Entry point: the real process → run(). The only file that reads process.* .
import { run } from './run.js';

const code = await run(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  stdin: process.stdin,
  now: () => new Date(),
});
process.exitCode = code;
