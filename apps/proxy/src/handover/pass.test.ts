// The handover by passing the listening sockets (fdpass.ts): the old server keeps accepting until
// the new one listens on the same socket, then stops; a client opening a new connection for every
// request is never refused. Real sockets, real descriptors.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@dreamnet/core';
import { startProxy } from '../server.js';
import { fdOf } from './fdpass.js';
import { fdPass, requestHandover, serveHandover } from './index.js';
import { handoverFixtures } from './test-fixtures.js';

const log = pino({ level: 'silent' });
const pass = fdPass();
const { cleanup, tmpFile, server, oldProxy, fresh } = handoverFixtures();

/** Fresh connections back to back until stopped: bodies seen and errors. */
function loop(port: number) {
  const seen = new Map<string, number>();
  const errors: string[] = [];
  let on = true;
  const done = (async () => {
    while (on) await fresh(port).then((b) => { seen.set(b, (seen.get(b) ?? 0) + 1); }, (e: NodeJS.ErrnoException) => { errors.push(e.code ?? e.message); });
  })();
  return { seen, errors, stop: async () => { on = false; await done; } };
}

describe('handover by passing the listening sockets', () => {
  it('the old server accepts until the new one listens on its socket, then stops and drains: no connection refused', async () => {
    const file = tmpFile();
    const old = await oldProxy();
    const h = await serveHandover(file, log, old.target, pass);
    cleanup.push(() => h.close());
    const traffic = loop(old.port);
    await new Promise((r) => setTimeout(r, 100));
    const pred = await requestHandover(file, log, pass);
    expect([...pred!.fds.keys()]).toEqual([old.port]);
    // Passed, not released: the old one still accepts.
    expect(old.server.listening).toBe(true);
    expect(old.drained()).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    await server('new', { fd: pred!.fds.get(old.port)! });
    pred!.confirm();
    await expect.poll(() => old.drained()).toBe(1);
    expect(old.server.listening).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    await traffic.stop();
    expect(traffic.errors).toEqual([]);
    expect(traffic.seen.get('old')).toBeGreaterThan(5);
    expect(traffic.seen.get('new')).toBeGreaterThan(5);
    expect(await fresh(old.port)).toBe('new');
  });

  it('a predecessor that cannot pass (a cluster primary: its workers own the sockets) releases instead', async () => {
    const file = tmpFile();
    const old = await oldProxy();
    const h = await serveHandover(file, log, old.target, null);
    cleanup.push(() => h.close());
    const pred = await requestHandover(file, log, pass);
    expect(pred!.fds.size).toBe(0);
    expect(old.server.listening).toBe(false);
    pred!.confirm();
    await expect.poll(() => old.drained()).toBe(1);
  });

  it('a predecessor from before "pass" (it drops the line) is asked to release', async () => {
    const file = tmpFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const lines: string[] = [];
    const v1 = net.createServer((sock) => sock.on('data', (d) => {
      const line = String(d).trim();
      lines.push(line);
      if (line === '{"v":1,"op":"release"}') sock.write('{"v":1,"op":"released"}\n'); else sock.destroy();
    }));
    await new Promise<void>((r) => v1.listen(file, () => r()));
    cleanup.push(() => v1.close());
    const pred = await requestHandover(file, log, pass);
    expect(pred!.fds.size).toBe(0);
    expect(lines).toEqual(['{"v":1,"op":"pass"}', '{"v":1,"op":"release"}']);
  });

  it('a successor that goes away after the pass without listening: the old one accepts alone and answers the next', async () => {
    const file = tmpFile();
    const old = await oldProxy();
    const h = await serveHandover(file, log, old.target, pass);
    cleanup.push(() => h.close());
    const sock = net.connect(file);
    sock.pause();
    await new Promise((r) => sock.once('connect', r));
    sock.write('{"v":1,"op":"pass"}\n');
    let got: ReturnType<NonNullable<typeof pass>['recv']> = null;
    await expect.poll(() => (got ??= pass!.recv(fdOf(sock)!))).not.toBeNull();
    expect(JSON.parse(got!.text)).toEqual({ v: 1, op: 'passed', ports: [old.port] });
    for (const fd of got!.fds) fs.closeSync(fd);
    sock.destroy();
    await expect.poll(() => h.server !== null).toBe(true);
    expect(old.server.listening).toBe(true);
    expect(old.drained()).toBe(0);
    expect(await fresh(old.port)).toBe('old');
    const pred = await requestHandover(file, log, pass);
    expect([...pred!.fds.keys()]).toEqual([old.port]);
    for (const fd of pred!.fds.values()) fs.closeSync(fd);
  });

  it('startProxy listens on the passed socket while the old server still holds the port (a bind would fail)', async () => {
    const file = tmpFile();
    const old = await oldProxy();
    const h = await serveHandover(file, log, old.target, pass);
    cleanup.push(() => h.close());
    const dataDir = path.resolve(path.dirname(file), '..', '..');
    let pred: Awaited<ReturnType<typeof requestHandover>> = null;
    const proxy = await startProxy({
      config: loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: 'http://127.0.0.1:9', DREAM_LOG_LEVEL: 'silent', DREAM_HTTPS_PORT: '0' }),
      token: 'int_handover', log, port: old.port, host: '127.0.0.1',
      beforeListen: async () => { pred = await requestHandover(file, log, pass); return pred?.fds; },
    });
    cleanup.push(() => proxy.close());
    expect(old.server.listening).toBe(true);
    expect(proxy.port).toBe(old.port);
    pred!.confirm();
    await expect.poll(() => old.drained()).toBe(1);
    expect(await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: old.port, path: '/__dream/healthz', agent: false }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b)); }).on('error', reject);
    })).toMatch(/"status":"ok"/);
  });
});
