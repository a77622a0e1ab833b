// The descriptor-passing addon (native/fdpass.c, built by npm install through apps/proxy/binding.gyp)
// with real sockets: a listening socket sent over a unix socket accepts in its new owner.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { fdOf, fdPass } from './fdpass.js';
import { handoverFixtures } from './test-fixtures.js';

const pass = fdPass();
const { cleanup, tmpFile, server, fresh } = handoverFixtures();

describe('fdpass addon', () => {
  it('is built by npm install (apps/proxy/binding.gyp)', () => {
    expect(pass, 'build/Release/fdpass.node missing: run npm install (needs python3, make, g++)').not.toBeNull();
  });

  it('carries a listening socket and a line over a unix socket; the copy accepts on the same port', async () => {
    const file = tmpFile();
    const first = await server('first');
    const port = (first.address() as net.AddressInfo).port;
    const unix = net.createServer((sock) => { pass!.send(fdOf(sock)!, 'hello\n', [fdOf(first)!]); });
    await new Promise<void>((r) => unix.listen(file, () => r()));
    cleanup.push(() => unix.close());
    const client = net.connect(file);
    client.pause();
    cleanup.push(() => client.destroy());
    await new Promise((r) => client.once('connect', r));
    let got: ReturnType<NonNullable<typeof pass>['recv']> = null;
    await expect.poll(() => (got ??= pass!.recv(fdOf(client)!))).not.toBeNull();
    expect(got!.text).toBe('hello\n');
    expect(got!.fds).toHaveLength(1);
    expect(got!.fds[0]).not.toBe(fdOf(first));
    const second = await server('second', { fd: got!.fds[0]! });
    expect((second.address() as net.AddressInfo).port).toBe(port);
    await new Promise<void>((r) => first.close(() => r()));
    expect(await fresh(port)).toBe('second');
  });

  it('throws an error with the errno name', () => {
    expect(() => pass!.send(1 << 20, 'x\n', [])).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => pass!.recv(1 << 20)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => pass!.dup(1 << 20)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => pass!.send(0, 'x\n', [1, 2, 3, 4, 5, 6, 7, 8, 9])).toThrow(/at most 8/);
  });
});
