// A name new to the route table of a proxy with two workers (real main.ts, built-in .dream CA): one
// process issues its certificate, the other learned of it only when it next looked at the data dir
// (up to 2-5 s later), and handshakes landing on it failed meanwhile though the name was valid.
// Now a worker without the certificate yet waits for a sibling's order (bounded); an unknown name
// still fails at once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { mainProcessSuite, spawnMain } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_tls_new_name';
const suite = mainProcessSuite('tls-new-name-', TOKEN, 'web.dream');

interface Shake { ok: boolean; ms: number; at: number; error?: string }

/** One new TLS connection for `servername`, verified against `root` (name included). */
function shake(port: number, servername: string, root: string, t0: number): Promise<Shake> {
  const start = Date.now();
  return new Promise((resolve) => {
    const done = (ok: boolean, error?: string) => { resolve({ ok, error, ms: Date.now() - start, at: start - t0 }); sock.destroy(); };
    const sock = tls.connect({ host: '127.0.0.1', port, servername, ca: root }, () => {
      const leaf = new crypto.X509Certificate(sock.getPeerCertificate().raw);
      done(sock.authorized && leaf.checkHost(servername) === servername, sock.authorizationError ? String(sock.authorizationError) : undefined);
    });
    sock.setTimeout(15_000, () => done(false, 'timeout'));
    sock.on('error', (e) => done(false, e.message));
  });
}

/** `n` handshakes at once, then more in 4 loops until `forMs` after t0. */
async function burst(port: number, name: string, root: string, t0: number, n: number, forMs: number): Promise<Shake[]> {
  const all = await Promise.all(Array.from({ length: n }, () => shake(port, name, root, t0)));
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (Date.now() - t0 < forMs) all.push(await shake(port, name, root, t0));
  }));
  return all;
}

describe('a new name on a proxy with two workers (real main.ts, built-in .dream CA)', () => {
  it('handshakes right after the route change all succeed with a certificate that verifies against the platform root; an unknown name fails at once', async () => {
    const data = path.join(suite.dir, 'data');
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const p = spawnMain({
      DREAM_DATA_DIR: data, DREAM_API_URL: suite.api.url, DREAM_INTERNAL_TOKEN: TOKEN,
      DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort), DREAM_DNS_PORT: '0',
      DREAM_PROXY_WORKERS: '2', DREAM_DREAM_ACME_DIRECTORY: '', DREAM_ACCESS_LOG: 'off', DREAM_LOG_LEVEL: 'info',
    });
    suite.procs.push(p);
    await p.seen(/proxy listening[\s\S]*proxy listening/);
    await p.seen(/"msg":"certificate issued"/);
    const root = fs.readFileSync(path.join(data, 'tls/ca/root.pem'), 'utf8');
    const endpoints = [{ host: '127.0.0.1', port: 9 }];
    const base = [{ app: 'web', hosts: ['web.dream'], endpoints }];

    // Rounds 1-3: names never seen; round 4: new1.dream again (removed since), its pair on disk.
    for (const round of [1, 2, 3, 4]) {
      const name = `new${round === 4 ? 1 : round}.dream`;
      const v = suite.api.setRoutes([...base, { app: name.split('.')[0]!, hosts: [name], endpoints }]);
      // The change is live once every worker acked it (the api waits for each): from then on the
      // name is in both workers' tables.
      await expect.poll(() => new Set(suite.api.acks.filter((a) => a.version >= v).map((a) => a.proxy)).size, { interval: 1 }).toBe(2);
      const t0 = Date.now();
      const shakes = await burst(httpsPort, name, root, t0, 40, 1500);
      const failed = shakes.filter((s) => !s.ok);
      expect({ round, failed: failed.map((s) => `${s.at} ms: ${s.error}`), total: shakes.length > 40 }).toEqual({ round, failed: [], total: true });
    }

    // A name nobody serves fails at once (no waiting), as before.
    const unknown = await Promise.all(Array.from({ length: 10 }, () => shake(httpsPort, 'nobody.dream', root, Date.now())));
    expect(unknown.filter((s) => s.ok)).toEqual([]);
    expect(Math.max(...unknown.map((s) => s.ms))).toBeLessThan(1000);
    p.child.kill('SIGTERM');
    await p.exited;
  }, 90_000);
});
