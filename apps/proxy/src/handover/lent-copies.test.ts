// Copies of a primary's sockets lent to workers (lent-copies.ts), with real sockets in one process and
// the cluster's events emitted by hand: a copy no worker listened on is closed when that worker exits
// (the port frees once the primary lets go); one node's cluster took is left to node; a number that
// meanwhile belongs to another worker's copy is not touched.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
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
const bindable = (port: number) => new Promise<boolean>((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});
const open = (fd: number) => { try { fs.fstatSync(fd); return true; } catch { return false; } };
const settle = () => new Promise((r) => setTimeout(r, 200));

async function primary() {
  const held = new PrimarySockets(pass, '127.0.0.1');
  cleanup.push(() => held.closeAll());
  const cluster = new EventEmitter();
  held.lent.follow(cluster);
  const port = await freePort();
  await held.bind([port]);
  return { held, cluster, port };
}

describe('copies lent to workers', () => {
  it('closes the copies of a worker that exits before it listens: the port frees after a release', async () => {
    const { held, cluster, port } = await primary();
    const copy = held.copies(1)[port]!;
    held.closeAll(); // a release: the primary lets go of its own socket
    expect(await bindable(port)).toBe(false); // the lent copy still holds it
    cluster.emit('exit', { id: 1 });
    await settle();
    expect(open(copy)).toBe(false);
    expect(await bindable(port)).toBe(true);
  });

  it('leaves a copy the worker listened on to node (the cluster\'s listening event names it)', async () => {
    const { held, cluster, port } = await primary();
    const copy = held.copies(2)[port]!;
    await server('on the copy', { fd: copy }); // what node's cluster does in the primary for the worker
    cluster.emit('listening', { id: 2 }, { port, fd: copy });
    cluster.emit('exit', { id: 2 });
    await settle();
    expect(open(copy)).toBe(true);
    expect(await fresh(port)).toBe('on the copy');
  });

  it('does not close a number that now is another worker\'s copy', async () => {
    const { held, cluster, port } = await primary();
    const copy = held.copies(3)[port]!;
    // Node took it and closed it already, without a 'listening' (the worker died in between) …
    fs.closeSync(copy);
    // … and the number was handed out again, to the next worker.
    const next = held.copies(4)[port]!;
    expect(next).toBe(copy);
    cluster.emit('exit', { id: 3 });
    await settle();
    expect(open(next)).toBe(true);
    cluster.emit('exit', { id: 4 });
    await settle();
    expect(open(next)).toBe(false);
  });
});
