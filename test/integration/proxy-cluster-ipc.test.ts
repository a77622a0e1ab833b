// The cluster primary and its workers when the IPC channel between them has closed but both still
// run: a worker dying (its channel closes before its 'exit' is seen) or a primary killed. A message
// sent then fails; node emitted that as an 'error' nothing handled, so the primary (relaying a
// handover, or answering a worker's 'ready') went down with every worker, and a worker reporting
// to a killed primary crashed instead of draining. Real processes (fixtures/cluster-ipc-closed.ts).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const FIXTURE = path.join(__dirname, 'fixtures', 'cluster-ipc-closed.ts');

function run(which: 'go' | 'forward' | 'report'): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, FIXTURE_CASE: which }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('a closed channel between the proxy primary and a worker', () => {
  it.each([
    ['go', 'the primary answering a worker\'s ready after its channel closed'],
    ['forward', 'the primary relaying a handover release to it'],
  ] as const)('%s: %s keeps the primary running', async (which, _what) => {
    const r = await run(which);
    expect(r.out).not.toContain('ERR_IPC_CHANNEL_CLOSED');
    expect(r.out).toContain('primary still running');
    expect(r.code).toBe(0);
  }, 30_000);

  it('report: a worker reporting to a primary that is gone keeps running (to drain), not crashing', async () => {
    const r = await run('report');
    expect(r.out).not.toContain('ERR_IPC_CHANNEL_CLOSED');
    expect(r.out).toContain('worker still running');
    expect(r.out).toContain('worker exited 0');
  }, 30_000);
});
