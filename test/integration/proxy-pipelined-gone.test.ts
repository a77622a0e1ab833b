// Pipelined requests node:http serves (the connection was handed off). node hands each to the
// handler as soon as it parses it: all ran on the app at once, however few answers the client read,
// and when it left, the responses queued behind the one being written never closed — their
// in-flight counts were never released (steering "fewest in flight" away from the replica for good
// and holding every drain of it to the drain timeout). Now they take turns, as on the fast path.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessEntry } from '../../apps/proxy/src/access-log.js';
import { startTlsProxy, startUpstream } from './proxy-helpers.js';

const TOKEN = 'int_pipelined-gone';
let up: Awaited<ReturnType<typeof startUpstream>>;
let env: Awaited<ReturnType<typeof startTlsProxy>>;
const access: AccessEntry[] = [];

beforeAll(async () => {
  up = await startUpstream('P');
  env = await startTlsProxy(TOKEN, [{ app: 'p', hosts: ['p.dream'], endpoints: [up.endpoint] }], ['p.dream'], { accessLog: (e) => access.push(e) });
});
afterAll(async () => {
  await env?.close();
  await up?.close();
});

describe('pipelined requests on node:http', () => {
  it('go to the app one at a time, each once the one before is answered', async () => {
    const s = net.connect(env.proxy.port, '127.0.0.1');
    s.on('error', () => {});
    let got = '';
    s.on('data', (d) => (got += d));
    const t0 = Date.now();
    // A chunked upload hands the connection to node:http; five GETs of 300 ms each queue behind it.
    const get = (i: number) => `GET /slow?ms=300&i=${i} HTTP/1.1\r\nHost: p.dream\r\n\r\n`;
    s.write(`POST /upload HTTP/1.1\r\nHost: p.dream\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${[1, 2, 3, 4, 5].map(get).join('')}`);
    await expect.poll(() => got.match(/HTTP\/1\.1 200 /g)?.length ?? 0, { timeout: 10_000 }).toBe(6);
    const took = Date.now() - t0;
    s.destroy();
    // In order, and one after another: 5 × 300 ms (all at once: ~300 ms).
    expect([...got.matchAll(/"url":"\/slow\?ms=300&i=(\d)"/g)].map((m) => m[1])).toEqual(['1', '2', '3', '4', '5']);
    expect(took).toBeGreaterThanOrEqual(1500);
  }, 15_000);

  it('that wait their turn when the client leaves never reach the app; the one in flight ends with its count', async () => {
    const key = `127.0.0.1:${up.port}`;
    access.length = 0;
    const before = up.received.length;
    const slow = () => up.received.slice(before).filter((u) => u.startsWith('/slow')).length;
    const s = net.connect(env.proxy.port, '127.0.0.1');
    s.on('error', () => {});
    let got = '';
    s.on('data', (d) => (got += d));
    const get = 'GET /slow?ms=3000 HTTP/1.1\r\nHost: p.dream\r\n\r\n';
    s.write(`POST /upload HTTP/1.1\r\nHost: p.dream\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${get.repeat(5)}`);
    await expect.poll(slow, { timeout: 5000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(slow()).toBe(1);
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    expect(env.proxy.endpoints.inFlight(key)).toBe(1);
    s.destroy();
    // Within a second, before the app answers (3 s): nothing counted, the one in flight logged 499.
    await expect.poll(() => env.proxy.endpoints.inFlight(key), { timeout: 1000 }).toBe(0);
    await expect.poll(() => access.map((e) => `${e.path} ${e.status}`), { timeout: 1000 }).toEqual(['/upload 200', '/slow?ms=3000 499']);
    await new Promise((r) => setTimeout(r, 500));
    expect(slow()).toBe(1);
    expect(access).toHaveLength(2);
  }, 15_000);
});
