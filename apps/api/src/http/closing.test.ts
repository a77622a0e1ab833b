// A stopping api ends promptly: a proxy's held route poll is answered at once with the table (not
// after its 25 s hold, then a 72 s keep-alive), and a request still arriving gets API_STOPPING.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RouteTable } from '../routing/table.js';
import { testApi } from '../test-support.js';

describe('closing the api', () => {
  it('answers a held route poll at once and finishes close() in well under a second', { timeout: 40_000 }, async () => {
    const t = await testApi();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as net.AddressInfo).port;
    const auth = { authorization: `Bearer ${t.internalToken}` };
    const base = `http://127.0.0.1:${port}/v1/internal/routes?proxy=p1`;
    const { version } = await (await fetch(`${base}&since=0&wait=0`, { headers: auth })).json() as { version: number };
    const held = fetch(`${base}&since=${version}&wait=25`, { headers: auth }).then(async (r) => ({ status: r.status, connection: r.headers.get('connection'), body: await r.json() as { version: number }, at: Date.now() }));
    // A request whose head is still arriving when close begins (not idle, so not closed with the idle ones).
    const late = net.connect(port, '127.0.0.1');
    await new Promise((r) => late.once('connect', r));
    late.write(`GET /v1/apps HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${t.admin}\r\n`);
    let lateAnswer = '';
    late.on('data', (d) => { lateAnswer += d; });
    const lateClosed = new Promise((r) => late.once('close', r));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const closed = t.app.close().then(() => Date.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
    late.write('\r\n');
    const poll = await held;
    expect(poll.status).toBe(200);
    expect(poll.body.version).toBe(version);
    expect(poll.connection).toBe('close');
    expect(poll.at - t0).toBeLessThan(1000);
    await lateClosed;
    expect(lateAnswer).toMatch(/^HTTP\/1\.1 503 /);
    expect(lateAnswer).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(lateAnswer.slice(lateAnswer.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 503, code: 'API_STOPPING' });
    expect(await closed).toBeLessThan(2000);
  });

  it('a poll waiting for the first reconcile pass gets API_STOPPING, never an incomplete table', async () => {
    const table = new RouteTable({ complete: false });
    const poll = table.poll('p1', 0, 0).then(() => 'table', (e: { code?: string }) => e.code);
    table.release();
    expect(await poll).toBe('API_STOPPING');
  });
});
