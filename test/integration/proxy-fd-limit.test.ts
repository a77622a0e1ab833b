// The real proxy process (main.ts) at its open-files limit: its RLIMIT_NOFILE lowered to 256
// (prlimit --pid, argv only) and 400 idle TCP connections opened to its plain port, as a flood of
// idle clients does. What a user and an operator see: the process keeps running without spinning, a
// client already connected is still answered, a request that needs a new connection to the app gets
// the proxy's 503 PROXY_OVERLOADED page over every path (not a 502 blaming the app, never a hang),
// the log says it once (FD_LIMIT_REACHED, naming the limit and what to raise) instead of once per
// request, and once the idle connections are closed (the proxy's 5 s head timeout) it serves new
// clients again and says so.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mainProcessSuite, request, spawnMain, tlsRequest, type Reply } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_fd_limit';
const HOST = 'fd.dream';
const LIMIT = 256;
const IDLE = 400;
const suite = mainProcessSuite('proxy-fd-limit-', TOKEN, HOST);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** User + system CPU time of a process so far, in clock ticks (100 a second). */
const cpuTicks = (pid: number) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};
/** What a client gets, or what went wrong, within 8 s (a hang is an answer too). */
const within8s = <T>(p: Promise<T>): Promise<T | string> =>
  Promise.race([p.catch((e: NodeJS.ErrnoException) => `error ${e.code ?? e.message}`), sleep(8000).then(() => 'no answer within 8 s')]);

/** GET over the agent's own kind of connection: TLS (SNI = Host) for an https.Agent, plain otherwise. */
const get = (agent: http.Agent, port: number, p = '/'): Promise<Reply> =>
  (agent instanceof https.Agent ? tlsRequest(port, HOST, p, { agent }) : request(port, HOST, p, { agent }));

function h2get(session: http2.ClientHttp2Session, p = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': p, ':authority': HOST });
    let status = 0;
    let headers: http.IncomingHttpHeaders = {};
    let body = '';
    s.setEncoding('utf8');
    s.on('response', (h) => { status = Number(h[':status']); headers = h as http.IncomingHttpHeaders; });
    s.on('data', (c: string) => (body += c));
    s.on('end', () => resolve({ status, headers, body }));
    s.on('error', reject);
  });
}

/** A connection opened now, on which `upgrade()` later sends a WebSocket handshake: the status line and X-Dream-Error it gets. */
async function rawConnection(port: number) {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => s.once('connect', r).once('error', j));
  let got = '';
  s.on('data', (c: Buffer) => (got += c.toString('latin1')));
  return {
    upgrade: () => new Promise<string>((resolve, reject) => {
      s.write(`GET /ws HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      const check = () => {
        const head = /^HTTP\/1\.1 (\d+)[^]*?\r\n\r\n/.exec(got);
        if (head) resolve(`${head[1]} ${/x-dream-error: (\S+)/i.exec(head[0])?.[1]}`);
      };
      s.on('data', check);
      s.once('close', () => reject(new Error(`closed: ${JSON.stringify(got)}`)));
    }),
    destroy: () => s.destroy(),
  };
}

const logLines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));

describe('the proxy at its open-files limit', () => {
  it('keeps running and answering, says so once with what to raise, and recovers once the idle connections close', async () => {
    const [port, httpsPort] = [await freePort(), await freePort()];
    const p = spawnMain({
      DREAM_DATA_DIR: path.join(suite.dir, 'data'), DREAM_API_URL: suite.api.url, DREAM_INTERNAL_TOKEN: TOKEN,
      DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(port), DREAM_HTTPS_PORT: String(httpsPort), DREAM_DNS_PORT: '0',
      DREAM_PROXY_WORKERS: '1', DREAM_TLS_CERT_FILE: path.join(suite.dir, 'leaf.pem'), DREAM_TLS_KEY_FILE: path.join(suite.dir, 'leaf.key'),
      DREAM_HTTPS_REDIRECT: 'off', NODE_TLS_REJECT_UNAUTHORIZED: '0',
    });
    suite.procs.push(p);
    await p.seen(/routes applied/);
    const pid = p.child.pid!;
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${LIMIT}:${LIMIT}`]);
    // The proxy reads its limit when it warns (fd-limit.ts), not before: the warning must name this one.
    await sleep(1200);

    // Clients connected before the flood, none of which has reached the app yet (so the proxy
    // holds no connection to it): plain and HTTPS keep-alive, and an HTTP/2 session.
    const plain = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const secure = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    const h2 = http2.connect(`https://127.0.0.1:${httpsPort}`, { servername: HOST, rejectUnauthorized: false });
    h2.on('error', () => {});
    const ws = await rawConnection(port);
    try {
      expect((await get(plain, port, '/__dream/healthz')).status).toBe(200);
      expect((await get(secure, httpsPort, '/__dream/healthz')).status).toBe(200);
      expect((await h2get(h2, '/__dream/healthz')).status).toBe(200);
      const before = p.out().length;

      const idle: net.Socket[] = [];
      for (let i = 0; i < IDLE; i++) idle.push(net.connect(port, '127.0.0.1').on('error', () => {}));
      await sleep(1000);
      const trickle = setInterval(() => idle.push(net.connect(port, '127.0.0.1').on('error', () => {})), 20);
      // More than the limit's worth were closed at once: a new client gets no answer (libuv accepts and closes it).
      expect(idle.slice(0, IDLE).filter((s) => s.destroyed).length).toBeGreaterThan(IDLE - LIMIT);
      expect(await within8s(request(port, HOST).then((r) => `${r.status}`))).toMatch(/^error (ECONNRESET|EPIPE)/);
      // No busy loop: measured 0 ticks a second.
      const t0 = cpuTicks(pid);
      await sleep(1000);
      expect(cpuTicks(pid) - t0).toBeLessThan(20);

      // A client already connected is answered; one whose request needs a new connection to the app
      // gets the proxy's page, on the fast path (plain and TLS), HTTP/2 (undici) and an upgrade.
      expect((await get(plain, port, '/__dream/healthz')).status).toBe(200);
      const page = await within8s(get(plain, port));
      expect(page).toMatchObject({ status: 503, headers: { 'x-dream-error': 'PROXY_OVERLOADED', 'retry-after': '5' } });
      expect((page as Reply).body).toContain('open-files limit');
      expect(await within8s(get(secure, httpsPort).then((r) => `${r.status} ${r.headers['x-dream-error']}`))).toBe('503 PROXY_OVERLOADED');
      expect(await within8s(h2get(h2).then((r) => `${r.status} ${r.headers['x-dream-error']}`))).toBe('503 PROXY_OVERLOADED');
      // The flood goes on (a new connection every 20 ms takes most descriptors freed meanwhile):
      // requests that need a new upstream connection get the page, before each a 502 and a warning
      // line of its own; one that finds a descriptor freed (the route poll's, say) is served, and
      // its upstream connection is reused by the next ones.
      const answers: string[] = [];
      for (let i = 0; i < 200; i++) { const r = await get(plain, port); answers.push(`${r.status} ${r.headers['x-dream-error'] ?? ''}`.trim()); }
      expect(answers.filter((a) => a !== '200' && a !== '503 PROXY_OVERLOADED')).toEqual([]);
      expect(answers).toContain('503 PROXY_OVERLOADED');
      // Last: the page ends this connection, and the descriptor it frees would serve the next request.
      expect(await within8s(ws.upgrade())).toBe('503 PROXY_OVERLOADED');
      clearInterval(trickle);

      // One warning naming the limit and what to raise, not one line per request.
      const during = p.out().slice(before);
      const warnings = logLines(during, /FD_LIMIT_REACHED/);
      expect(warnings, during.slice(-3000)).toHaveLength(1);
      const w = JSON.parse(warnings[0]!) as { level: number; code: string; limit: number; msg: string };
      expect(w).toMatchObject({ level: 40, code: 'FD_LIMIT_REACHED', limit: LIMIT });
      expect(w.msg).toContain('LimitNOFILE');
      expect(w.msg).toContain('ulimit -n');
      expect(logLines(during, /upstream (request|upgrade) failed/)).toEqual([]);

      // The idle connections sent nothing: the proxy closes them after 5 s (the last of the trickle
      // too), and serves new clients and the ones it had again.
      const deadline = Date.now() + 15_000;
      while (idle.some((s) => !s.destroyed) && Date.now() < deadline) await sleep(100);
      expect(idle.filter((s) => !s.destroyed)).toHaveLength(0);
      expect(await within8s(request(port, HOST))).toMatchObject({ status: 200, body: 'ok' });
      expect((await get(plain, port)).status).toBe(200);
      expect((await get(secure, httpsPort)).status).toBe(200);
      // HTTP/2 too, though its first request came at the limit: undici, loaded on that first
      // request, failed to load (EMFILE), and node kept that import() failed until a restart.
      expect((await h2get(h2)).status).toBe(200);
      await p.seen(/"msg":"[^"]*file descriptors free again/, 5000);
      expect(p.child.exitCode).toBeNull();
    } finally {
      plain.destroy();
      secure.destroy();
      h2.destroy();
      ws.destroy();
    }
  }, 60_000);
});
