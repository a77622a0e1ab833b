// Listening on passed sockets (passed-sockets.ts), with real sockets in one process: a socket bound
// as the settings say is listened on (and counted), one bound elsewhere is closed and the port bound
// as they say, and sockets no listener took are closed.
import net from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { fdPass } from './fdpass.js';
import { PassedSockets } from './passed-sockets.js';
import { PrimarySockets } from './primary-sockets.js';
import { handoverFixtures } from './test-fixtures.js';

const pass = fdPass()!;
const { cleanup, fresh } = handoverFixtures();
const log = pino({ level: 'silent' });

/** A listening socket on `host`, as a predecessor would pass it (port → descriptor). */
async function passedOn(host: string): Promise<[number, number]> {
  const held = new PrimarySockets(pass, host);
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, host, () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
  await held.bind([port]);
  return [port, held.sockets()!.fds[0]!];
}

const listen = (p: PassedSockets, port: number, name: string) => new Promise<net.Server>((resolve) => {
  const s = net.createServer((c) => c.end(`HTTP/1.1 200 OK\r\ncontent-length: ${name.length}\r\nconnection: close\r\n\r\n${name}`));
  cleanup.push(() => s.close());
  p.listen(s, port, () => resolve(s));
});

const bindable = (port: number, host: string) => new Promise<boolean>((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(false));
  s.listen(port, host, () => s.close(() => resolve(true)));
});

describe('listening on passed sockets', () => {
  it('listens on a socket bound as the settings say and counts its port', async () => {
    const [port, fd] = await passedOn('127.0.0.1');
    const p = new PassedSockets(new Map([[port, fd]]), '127.0.0.1', log);
    await listen(p, port, 'passed');
    expect(p.used).toEqual([port]);
    expect(await fresh(port)).toBe('passed');
  });

  it('closes a socket bound elsewhere and binds the port on the host instead (not counted)', async () => {
    const [port, fd] = await passedOn('127.0.0.2');
    const p = new PassedSockets(new Map([[port, fd]]), '127.0.0.1', log);
    const s = await listen(p, port, 'bound');
    expect((s.address() as net.AddressInfo).address).toBe('127.0.0.1');
    expect(p.used).toEqual([]);
    expect(await fresh(port)).toBe('bound');
    expect(await bindable(port, '127.0.0.2')).toBe(true); // the passed socket was closed
  });

  it('closeRest closes the sockets no listener took', async () => {
    const [port, fd] = await passedOn('127.0.0.1');
    const p = new PassedSockets(new Map([[port, fd]]), '127.0.0.1', log);
    expect(await bindable(port, '127.0.0.1')).toBe(false);
    p.closeRest();
    expect(await bindable(port, '127.0.0.1')).toBe(true);
  });
});
