// A proxy that starts with many `.dream` names to issue (a first start with a thousand apps, a data
// dir restored without its certificates, `.dream` switched to the built-in CA): the real proxy
// (startProxy + startCertificates, the built-in CA) polling the fake api, real sockets. The
// certificates are made in the background; requests for apps must keep being answered meanwhile.
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { request, withBuiltinCaProxy } from './proxy-helpers.js';

const TOKEN = 'int_many_names';
/** Enough names that issuing them all takes seconds (~5 ms of this process's CPU each). */
const N = 1000;

const edge = withBuiltinCaProxy(TOKEN, N, (i) => [`app${i}.dream`, `www.app${i}.example.test`]);

function handshake(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: edge.proxy.httpsPort!, servername: name, ca: edge.certs.ca!.rootPem }, () => { resolve(s.authorized); s.destroy(); });
    s.on('error', () => resolve(false));
  });
}

describe(`${N} .dream names to issue at start (built-in CA)`, () => {
  it('requests are answered within a second while the certificates are made, and every name gets one', async () => {
    await edge.proxy.routes.synced;
    expect(edge.certs.certs.status().length).toBe(N);
    // One request every 50 ms until all are issued, each timed from send to answer. Before, the
    // orders all ran at once and the finished ones' work ran back to back on one turn of the event
    // loop: 1 000 names held requests 2-5 s (5 000 names: 27 s) and handshakes as long.
    const times: number[] = [];
    const statuses = new Set<number>();
    const sent: Promise<void>[] = [];
    const t0 = Date.now();
    while (edge.issued() < N && Date.now() - t0 < 60_000) {
      const t = performance.now();
      sent.push(request(edge.proxy.port, 'www.app1.example.test').then((r) => { statuses.add(r.status); times.push(performance.now() - t); }));
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(sent);
    expect(edge.issued()).toBe(N);
    expect([...statuses]).toEqual([200]);
    expect(times.length).toBeGreaterThan(5);
    expect(Math.max(...times)).toBeLessThan(1000);
    expect(await handshake(`app${N - 1}.dream`)).toBe(true);
  }, 90_000);
});
