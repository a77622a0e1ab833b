// A listening socket whose accept fails (what node emits as the server's 'error') keeps serving and
// says so once; a failure that repeats with no pause still stops the process, as before.
import net from 'node:net';
import os from 'node:os';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ACCEPT_ERRORS_IN_A_ROW, watchAcceptErrors } from './accept-errors.js';

/** The error node's net.Server emits when accept() fails with `code` (net.js onconnection). */
const acceptError = (code: 'ENOBUFS' | 'EPERM' | 'EMFILE') =>
  Object.assign(new Error(`accept ${code}`), { errno: -os.constants.errno[code], code, syscall: 'accept' });

const lines: Array<Record<string, unknown>> = [];
const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
const servers: net.Server[] = [];
afterEach(async () => {
  lines.length = 0;
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function echoServer(quietMs?: number): Promise<{ server: net.Server; hello(): Promise<string> }> {
  const server = net.createServer((s) => s.end('hello'));
  watchAcceptErrors(server, 'test', log, undefined, quietMs);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const { port } = server.address() as net.AddressInfo;
  const hello = () => new Promise<string>((resolve, reject) => {
    let got = '';
    net.connect(port, '127.0.0.1').on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject);
  });
  return { server, hello };
}

describe('accept errors on a listener', () => {
  it('keep it serving, with one ACCEPT_FAILED warning for several and a line once they stopped', async () => {
    const { server, hello } = await echoServer(300);
    expect(() => { for (let i = 0; i < 3; i++) server.emit('error', acceptError('ENOBUFS')); }).not.toThrow();
    server.emit('error', acceptError('EPERM'));
    expect(await hello()).toBe('hello');
    const warns = lines.filter((l) => l.code === 'ACCEPT_FAILED' && l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ listener: 'test', errno: 'ENOBUFS', failed: 1 });
    await new Promise((r) => setTimeout(r, 700));
    expect(lines.filter((l) => l.code === 'ACCEPT_FAILED' && l.level === 30)).toMatchObject([{ failed: 4, msg: 'connections are accepted again' }]);
  });

  it('leaves listen errors to whoever listens', async () => {
    const { server } = await echoServer();
    const taken = net.createServer();
    const err = await new Promise<NodeJS.ErrnoException>((r) => { taken.once('error', r); taken.listen((server.address() as net.AddressInfo).port, '127.0.0.1'); });
    expect(err.code).toBe('EADDRINUSE');
    server.emit('error', err);
    expect(lines).toEqual([]);
  });

  it(`stops the process after ${ACCEPT_ERRORS_IN_A_ROW} in a row with no pause (libuv retries at once: it would spin serving nothing)`, async () => {
    const { server } = await echoServer();
    for (let i = 1; i < ACCEPT_ERRORS_IN_A_ROW; i++) server.emit('error', acceptError('ENOBUFS'));
    expect(() => server.emit('error', acceptError('ENOBUFS'))).toThrow('accept ENOBUFS');
    expect(lines.filter((l) => l.level === 50)).toMatchObject([{ code: 'ACCEPT_FAILED', inARow: ACCEPT_ERRORS_IN_A_ROW }]);
    // Spread over event-loop turns they are not a spin.
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 3; i++) { server.emit('error', acceptError('ENOBUFS')); await new Promise((r) => setImmediate(r)); }
  });
});
