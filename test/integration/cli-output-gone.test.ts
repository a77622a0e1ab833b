// The `dream` CLI when the reader of its output goes away (`dream apps | head -1`, `dream logs APP
// -f | head -3`): it stops at once and quietly, with exit code 141 as git, kubectl and docker do
// (they die of SIGPIPE), not with an uncaught EPIPE trace and exit code 1, and a follow stream does
// not keep it running. The real CLI process against the api as its process runs it (startApi) with
// the fake target, whose app prints a line every 20 ms.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@dreamnet/core';
import { FakeTarget } from '@dreamnet/targets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../../apps/api/src/main.js';
import { StubBuilder, source } from '../../apps/api/src/test-support.js';
import { freePort } from '../e2e/platform.js';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dream.js', import.meta.url));
const APP = 'web';

let api: Awaited<ReturnType<typeof startApi>>;
let printing: NodeJS.Timeout;
let env: Record<string, string>;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-cli-output-gone-'));

beforeAll(async () => {
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dataDir, 'api'), DREAM_TARGET: 'fake', DREAM_API_HOST: '127.0.0.1', DREAM_API_PORT: String(await freePort()), DREAM_LOG_LEVEL: 'silent' });
  const target = new FakeTarget();
  api = await startApi(config, { target, builder: new StubBuilder() });
  const token = fs.readFileSync(path.join(config.dataDir, 'admin-token'), 'utf8').trim();
  env = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: dataDir, XDG_CONFIG_HOME: path.join(dataDir, 'cfg'), DREAM_URL: config.apiUrl, DREAM_TOKEN: token };
  const created = await fetch(`${config.apiUrl}/v1/apps`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: APP }) });
  expect(created.status).toBe(201);
  expect((await api.deployer.deploySource(APP, { context: () => Readable.from(source()()), description: 'first' })).state).toBe('healthy');
  let n = 0;
  printing = setInterval(() => target.print(APP, `line ${n++}`), 20);
}, 60_000);
afterAll(async () => {
  clearInterval(printing);
  await api?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Ended { code: number | null; signal: NodeJS.Signals | null; stderr: string; lines: number; msAfterClose: number }

/** Runs the CLI and closes the read end of its stdout after `keep` lines (0: before it writes). */
function dreamUntilReaderGone(args: string[], keep: number): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let lines = 0;
    let closedAt = Date.now();
    let hang: NodeJS.Timeout | undefined;
    const close = () => {
      if (hang) return;
      closedAt = Date.now();
      child.stdout.destroy();
      // Still running 15 s after its reader went away: it hangs on the stream.
      hang = setTimeout(() => child.kill('SIGKILL'), 15_000);
    };
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    if (keep === 0) close();
    else {
      let buffered = '';
      child.stdout.on('data', (c: Buffer) => {
        buffered += c.toString();
        lines = buffered.split('\n').length - 1;
        if (lines >= keep) close();
      });
    }
    child.on('exit', (code, signal) => { clearTimeout(hang); resolve({ code, signal, stderr, lines, msAfterClose: Date.now() - closedAt }); });
  });
}

describe('dream stops quietly when the reader of its output is gone', () => {
  it.each([
    [['apps']],
    [['apps', '--json']],
    [['domains', APP, '--json']],
    [['logs', APP, '--tail', '5']],
  ])('dream %j | (reader already gone) → exit 141, nothing on stderr', async (args) => {
    const r = await dreamUntilReaderGone(args, 0);
    expect([r.code, r.signal, r.stderr]).toEqual([141, null, '']);
  });

  it('dream logs APP -f | head -3 → exit 141 on the next line, nothing on stderr, no hang', async () => {
    const r = await dreamUntilReaderGone(['logs', APP, '-f', '--tail', '0'], 3);
    expect(r.lines).toBeGreaterThanOrEqual(3);
    expect([r.code, r.signal, r.stderr]).toEqual([141, null, '']);
    expect(r.msAfterClose).toBeLessThan(5_000);
  });

  it('a reader that reads everything still gets exit 0', async () => {
    const r = await dreamUntilReaderGone(['apps'], Number.MAX_SAFE_INTEGER);
    expect([r.code, r.stderr]).toEqual([0, '']);
  });
});
