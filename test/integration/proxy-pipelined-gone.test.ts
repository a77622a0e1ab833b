// Pipelined requests node:http serves (the connection was handed off) and a client that leaves
// before they are answered. node emits 'close' only on the response it is writing; the ones queued
// behind it never close. What the proxy did on that close (end the in-flight count on the replica,
// write the access line, stop the upstream request) must happen for those too: a count left behind
// steered "fewest in flight" away from the replica for good and held every drain of it (a deploy's
// old replica) to the drain timeout.
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

describe('pipelined requests on node:http whose client leaves', () => {
  it('end their in-flight count and get their access lines when the client goes, not never', async () => {
    const key = `127.0.0.1:${up.port}`;
    const s = net.connect(env.proxy.port, '127.0.0.1');
    s.on('error', () => {});
    let got = '';
    s.on('data', (d) => (got += d));
    // A chunked upload hands the connection to node:http; five slow GETs queue behind it.
    const get = 'GET /slow?ms=3000 HTTP/1.1\r\nHost: p.dream\r\n\r\n';
    s.write(`POST /upload HTTP/1.1\r\nHost: p.dream\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${get.repeat(5)}`);
    await expect.poll(() => up.received.filter((u) => u.startsWith('/slow')).length, { timeout: 5000 }).toBe(5);
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    expect(env.proxy.endpoints.inFlight(key)).toBe(5);
    s.destroy();
    // Within a second, well before the app answers (3 s): nothing left counted, a line for each.
    await expect.poll(() => env.proxy.endpoints.inFlight(key), { timeout: 1000 }).toBe(0);
    await expect.poll(() => access.filter((e) => e.path.startsWith('/slow')).map((e) => e.status), { timeout: 1000 }).toEqual([499, 499, 499, 499, 499]);
    expect(access.filter((e) => e.path === '/upload').map((e) => e.status)).toEqual([200]);
    // The queued ones never reached the client: no bytes counted for them.
    expect(access.filter((e) => e.path.startsWith('/slow')).map((e) => e.bytes)).toEqual([0, 0, 0, 0, 0]);
  }, 15_000);
});
