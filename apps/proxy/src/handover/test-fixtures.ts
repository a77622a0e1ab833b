// Shared by the handover's tests (imported only by *.test.ts): temporary socket paths, HTTP servers
// standing in for proxies, and a request on a new connection. Registers its own afterEach cleanup.
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { listenersOf } from './listeners.js';

export function handoverFixtures() {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => { for (const f of cleanup.splice(0)) await f(); });

  /** `<tmp>/proxy/handover/1.sock` (the directory made, the file not), removed after the test. */
  const tmpFile = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ho-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.mkdirSync(path.join(dir, 'proxy', 'handover'), { recursive: true });
    return path.join(dir, 'proxy', 'handover', '1.sock');
  };

  /** An HTTP server answering `name`, on a free loopback port or on a listening descriptor. */
  const server = async (name: string, at: number | { fd: number } = 0): Promise<http.Server> => {
    const s = http.createServer({ keepAlive: true }, (_req, res) => res.end(name));
    await new Promise<void>((r) => (typeof at === 'number' ? s.listen(at, '127.0.0.1', () => r()) : s.listen(at, () => r())));
    cleanup.push(() => { s.closeAllConnections(); s.close(); });
    return s;
  };

  /** A server as the handover's old side sees it: its listeners, and a drain that only counts. */
  const oldProxy = async (name = 'old') => {
    const s = await server(name);
    const listeners = listenersOf([s]);
    let drained = 0;
    return { server: s, port: (s.address() as net.AddressInfo).port, listeners, drained: () => drained, target: { ...listeners, drain: () => { drained++; } } };
  };

  /** One GET on a new connection (no keep-alive): what a refused port fails. */
  const fresh = (port: number, p = '/') => new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b)); }).on('error', reject);
  });

  return { cleanup, tmpFile, server, oldProxy, fresh };
}
