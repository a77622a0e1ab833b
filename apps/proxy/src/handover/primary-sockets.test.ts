// A cluster primary's own copies of the listening sockets (primary-sockets.ts), with real sockets in
// one process: what it binds stays listening while the servers on its copies come and go, a
// successor's socket bound elsewhere is refused, and closeAll frees the port.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { fdPass } from './fdpass.js';
import { PrimarySockets } from './primary-sockets.js';
import { handoverFixtures } from './test-fixtures.js';

const pass = fdPass()!;
const { cleanup, server, fresh } = handoverFixtures();

const freePort = () => new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
});
const bindable = (port: number, host = '127.0.0.1') => new Promise<boolean>((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(false));
  s.listen(port, host, () => s.close(() => resolve(true)));
});

describe('a cluster primary\'s listening sockets', () => {
  it('binds a port and keeps it while servers on its copies come and go; closeAll frees it', async () => {
    const held = new PrimarySockets(pass, '127.0.0.1');
    cleanup.push(() => held.closeAll());
    const port = await freePort();
    await held.bind([port]);
    expect(held.sockets()!.ports).toEqual([port]);
    const first = await server('first', { fd: held.copies(1)[port]! });
    expect(await fresh(port)).toBe('first');
    await new Promise<void>((r) => { first.closeAllConnections(); first.close(() => r()); });
    // Node closed that copy with its server; the primary's socket still listens (connections queue).
    expect(await bindable(port)).toBe(false);
    await server('second', { fd: held.copies(1)[port]! });
    expect(await fresh(port)).toBe('second');
    held.closeAll();
    expect(held.sockets()).toBeNull();
  });

  it('frees the port on closeAll once no server listens on a copy', async () => {
    const held = new PrimarySockets(pass, '127.0.0.1');
    const port = await freePort();
    await held.bind([port]);
    expect(await bindable(port)).toBe(false);
    held.closeAll();
    expect(await bindable(port)).toBe(true);
  });

  it('adopts a passed socket bound as the settings say, and closes one bound elsewhere', async () => {
    const [port, other] = [await freePort(), await freePort()];
    const a = new PrimarySockets(pass, '127.0.0.1');
    await a.bind([port]);
    const b = new PrimarySockets(pass, '127.0.0.2');
    await b.bind([other]);
    const held = new PrimarySockets(pass, '127.0.0.1');
    cleanup.push(() => held.closeAll());
    // Handed over (here within one process): the predecessors' descriptors become held's.
    expect(await held.adopt(new Map([[port, a.sockets()!.fds[0]!], [other, b.sockets()!.fds[0]!]]))).toEqual([port]);
    expect(held.sockets()!.ports).toEqual([port]);
    expect(await bindable(other, '127.0.0.2')).toBe(true);
    expect(await bindable(port)).toBe(false);
  });
});
