// The bench's start-up wait (bench/proxy/procs.ts): ready once a 200 comes; a process that dies
// first is said at once, with its exit code, and a timeout says what the last try got.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitReady } from '../../bench/proxy/procs.js';

const spawned: Array<ReturnType<typeof spawn>> = [];
afterEach(() => { for (const c of spawned.splice(0)) c.kill('SIGKILL'); });
const node = (code: string) => { const c = spawn(process.execPath, ['-e', code], { stdio: 'ignore' }); spawned.push(c); return c; };

describe('waitReady', () => {
  it('resolves once the process answers 200 on its port', async () => {
    const port = await freePort();
    const c = node(`setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), 300)`);
    await expect(waitReady(port, false, c)).resolves.toBeUndefined();
  });

  it('fails at once, with the exit code, when the process exits before answering', async () => {
    const port = await freePort();
    const c = node('process.exit(3)');
    const t0 = Date.now();
    await expect(waitReady(port, false, c)).rejects.toThrow(/exited \(3\) before it answered on port \d+/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('on timeout says what the last try got: a refused connection, or another status', async () => {
    const port = await freePort();
    await expect(waitReady(port, false, undefined, 500)).rejects.toThrow(`nothing answered 200 on port ${port} within 0.5 s (last try: ECONNREFUSED)`);
    const c = node(`require('http').createServer((q, s) => { s.statusCode = 503; s.end(); }).listen(${port}, '127.0.0.1')`);
    await expect(waitReady(port, false, c, 1500)).rejects.toThrow('(last try: status 503)');
  });
});
