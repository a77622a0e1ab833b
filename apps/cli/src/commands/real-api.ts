// For tests: the real api code listening on a loopback port (apps/api testApi), and `dream …` run
// in-process against it with an admin token, giving what a user would see: exit code, stdout, stderr.
import os from 'node:os';
import { afterAll, beforeAll } from 'vitest';
import { testApi } from '../../../api/src/test-support.js';
import { run } from '../run.js';

/** Starts the api before the file's tests and stops it after; `dream` runs the CLI against it. */
export function withRealApi() {
  let t: Awaited<ReturnType<typeof testApi>>;
  let url: string;
  beforeAll(async () => {
    t = await testApi();
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => { await t.app.close(); });
  return {
    api: () => t,
    async dream(...argv: string[]) {
      const out: string[] = [];
      const err: string[] = [];
      const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: { DREAM_URL: url, DREAM_TOKEN: t.admin, HOME: os.tmpdir() }, stdin: process.stdin, now: () => new Date() };
      const code = await run(argv, io);
      return { code, out: out.join(''), err: err.join('') };
    },
  };
}
