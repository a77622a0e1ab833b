// The handover with real sockets: an "old" HTTP server releases its port to a "new" one over the
// unix socket; a keep-alive connection to the old one keeps being served until the new one listens.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@dreamnet/core';
import { startProxy } from '../server.js';
import { handoverPath, listenersOf, parseMessage, requestHandover, serveHandover, waitPortsFree } from './index.js';
import { handoverFixtures } from './test-fixtures.js';

const log = pino({ level: 'silent' });
const { cleanup, tmpFile, oldProxy } = handoverFixtures();

const get = (port: number, agent?: http.Agent) => new Promise<string>((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, agent }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b)); }).on('error', reject);
});
const getPath = (port: number, p: string) => new Promise<string>((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, path: p }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b)); }).on('error', reject);
});
const refused = (port: number) => get(port).then(() => false, (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');

describe('handover messages', () => {
  it('accepts only the known ops at version 1, and ports only on "passed"', () => {
    expect(parseMessage('{"v":1,"op":"release"}')).toEqual({ op: 'release' });
    expect(parseMessage('{"v":1,"op":"listening"}')).toEqual({ op: 'listening' });
    expect(parseMessage('{"v":1,"op":"pass"}')).toEqual({ op: 'pass' });
    expect(parseMessage('{"v":1,"op":"passed","ports":[80,443]}')).toEqual({ op: 'passed', ports: [80, 443] });
    for (const bad of ['{"v":2,"op":"release"}', '{"v":1,"op":"exit"}', '{"v":1,"op":"release","x":1}', '[1]', 'null', 'release', `{"v":1,"op":"release","pad":"${'x'.repeat(300)}"}`,
      '{"v":1,"op":"passed"}', '{"v":1,"op":"passed","ports":[]}', '{"v":1,"op":"passed","ports":[0]}', '{"v":1,"op":"passed","ports":[70000]}', '{"v":1,"op":"passed","ports":["80"]}',
      '{"v":1,"op":"passed","ports":[1,2,3,4,5]}', '{"v":1,"op":"pass","ports":[80]}', '{"v":1,"op":"passed","ports":[80],"x":1}']) {
      expect(parseMessage(bad), bad).toBeNull();
    }
  });

  it('keys the socket by port and gives up on ephemeral ports', () => {
    expect(handoverPath('/var/lib/dream', 80)).toBe('/var/lib/dream/proxy/handover/80.sock');
    expect(handoverPath('/var/lib/dream', 0)).toBeNull();
    expect(handoverPath(`/${'d'.repeat(120)}`, 80)).toBeNull();
  });
});

describe('handover', () => {
  it('releases the port, keeps serving open keep-alive connections, drains only once the new one listens', async () => {
    const file = tmpFile();
    const old = await oldProxy('old');
    const h = await serveHandover(file, log, old.target, null);
    cleanup.push(() => h.close());
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    expect(await get(old.port, agent)).toBe('old');

    const pred = await requestHandover(file, log, null);
    expect(pred).not.toBeNull();
    expect(old.server.listening).toBe(false);
    expect(fs.existsSync(file)).toBe(false); // free for the successor's own socket
    // The open connection is still served by the old process (no Connection: close yet).
    expect(await get(old.port, agent)).toBe('old');
    expect(old.drained()).toBe(0);

    await waitPortsFree([old.port], '127.0.0.1');
    const next = http.createServer((_req, res) => res.end('new'));
    await new Promise<void>((r) => next.listen(old.port, '127.0.0.1', () => r()));
    cleanup.push(() => { next.closeAllConnections(); next.close(); });
    pred!.confirm();
    await expect.poll(() => old.drained()).toBe(1);
    expect(await get(old.port)).toBe('new');
  });

  it('keeps answering after its socket fails to accept a connection (before, the error stopped the process)', async () => {
    const file = tmpFile();
    const old = await oldProxy('old');
    const h = await serveHandover(file, log, old.target, null);
    cleanup.push(() => h.close());
    // What node emits when accept() fails (ENOBUFS: the kernel is short of memory); nothing here can make the kernel do it.
    const err = Object.assign(new Error('accept ENOBUFS'), { errno: -os.constants.errno.ENOBUFS, code: 'ENOBUFS', syscall: 'accept' });
    expect(() => h.server!.emit('error', err)).not.toThrow();
    const pred = await requestHandover(file, log, null);
    expect(pred).not.toBeNull();
    expect(old.server.listening).toBe(false);
    pred!.confirm();
    await expect.poll(() => old.drained()).toBe(1);
  });

  it('listens again when the successor goes away without saying it listens', async () => {
    const file = tmpFile();
    const old = await oldProxy('old');
    const h = await serveHandover(file, log, old.target, null);
    cleanup.push(() => h.close());
    const sock = net.connect(file);
    sock.write('{"v":1,"op":"release"}\n');
    const answer = await new Promise<string>((r) => sock.once('data', (d) => r(String(d))));
    expect(answer).toBe('{"v":1,"op":"released"}\n');
    expect(await refused(old.port)).toBe(true);
    sock.destroy();
    await expect.poll(() => get(old.port).catch(() => ''), { timeout: 3000 }).toBe('old');
    expect(old.drained()).toBe(0);
    await expect.poll(() => fs.existsSync(file)).toBe(true); // ready for the next attempt
  });

  it('drops a peer that sends anything else, and keeps listening', async () => {
    const file = tmpFile();
    const old = await oldProxy('old');
    const h = await serveHandover(file, log, old.target, null);
    cleanup.push(() => h.close());
    const sock = net.connect(file);
    sock.write('{"v":1,"op":"listening"}\n');
    await new Promise((r) => sock.once('close', r));
    sock.destroy();
    expect(old.server.listening).toBe(true);
    expect(await get(old.port)).toBe('old');
  });

  it('startProxy asks the predecessor in beforeListen, binds once it released, and the old one drains only then', async () => {
    const file = tmpFile();
    const old = await oldProxy('old');
    const h = await serveHandover(file, log, old.target, null);
    cleanup.push(() => h.close());
    const dataDir = path.resolve(path.dirname(file), '..', '..');
    const seen: string[] = [];
    let pred: Awaited<ReturnType<typeof requestHandover>> = null;
    const proxy = await startProxy({
      config: loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: 'http://127.0.0.1:9', DREAM_LOG_LEVEL: 'silent', DREAM_HTTPS_PORT: '0' }),
      token: 'int_handover', log, port: old.port, host: '127.0.0.1',
      beforeListen: async () => {
        seen.push(old.server.listening ? 'old listening' : 'old released');
        pred = await requestHandover(file, log, null);
        await waitPortsFree([old.port], '127.0.0.1');
        seen.push(old.server.listening ? 'old listening' : 'old released');
      },
    });
    cleanup.push(() => proxy.close());
    expect(seen).toEqual(['old listening', 'old released']);
    expect(old.drained()).toBe(0);
    pred!.confirm();
    await expect.poll(() => old.drained()).toBe(1);
    // The new proxy answers on the port now: its health check, not the old server's body.
    expect(await getPath(old.port, '/__dream/healthz')).toMatch(/"status":"ok"/);
    await listenersOf(proxy.servers).release();
    expect(proxy.servers.every((s) => !s.listening)).toBe(true);
  });

  it('treats a missing or stale socket as no predecessor', async () => {
    const file = tmpFile();
    expect(await requestHandover(file, log, null)).toBeNull();
    // A socket file whose process is gone (killed -9): refused, removed.
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const s = net.createServer().listen(file);
    await new Promise((r) => s.once('listening', r));
    const copy = `${file}.keep`;
    fs.renameSync(file, copy); // keep the inode name away from close()'s unlink
    s.close();
    fs.renameSync(copy, file);
    expect(await requestHandover(file, log, null)).toBeNull();
    expect(fs.existsSync(file)).toBe(false);
  });
});
