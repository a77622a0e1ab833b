// A fake api that implements the proxy ↔ api contract (docs/architecture.md) faithfully: the
// long-polled route table and the acks.
import http from 'node:http';
import { closeServer, listen } from './servers.js';

/** A route as the api sends it (apps/api/src/routing/table.ts RouteEntry), the app's own proxy settings included. */
export interface TestRoute { app: string; hosts: string[]; endpoints: { host: string; port: number }[]; maxRequestBody?: number; requestBuffering?: boolean }
export interface Ack { proxy: string; version: number; at: number }

/**
 * GET /v1/internal/routes (long-poll) + POST /v1/internal/routes/ack, Bearer token checked.
 * `answerAfterMs`: polls are answered no sooner than this long after it started (an api slow to
 * give a starting proxy its first table).
 */
export async function startFakeApi(token: string, initial: TestRoute[] = [], opts: { port?: number; version?: number; answerAfterMs?: number } = {}) {
  let version = opts.version ?? 1;
  let routes = initial;
  const waiters = new Set<() => void>();
  const acks: Ack[] = [];
  const polls: { since: number; wait: number; proxy: string }[] = [];
  const ackWaiters = new Set<() => void>();
  const answerFrom = Date.now() + (opts.answerAfterMs ?? 0);
  const server = http.createServer(function handle(req, res) {
    if (Date.now() < answerFrom) { setTimeout(() => handle(req, res), answerFrom - Date.now()); return; }
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${token}`) { res.writeHead(401).end(); return; }
    if (req.method === 'GET' && url.pathname === '/v1/internal/routes') {
      const since = Number(url.searchParams.get('since') ?? '0');
      const wait = Number(url.searchParams.get('wait') ?? '0');
      polls.push({ since, wait, proxy: url.searchParams.get('proxy') ?? '' });
      const answer = () => { waiters.delete(answer); clearTimeout(timer); if (!res.writableEnded) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version, routes })); };
      let timer: NodeJS.Timeout | undefined;
      if (since !== version) return answer();
      waiters.add(answer);
      timer = setTimeout(answer, wait * 1000);
      res.on('close', () => { waiters.delete(answer); clearTimeout(timer); });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/internal/routes/ack') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { proxy, version: v } = JSON.parse(body) as { proxy: string; version: number };
        acks.push({ proxy, version: v, at: Date.now() });
        for (const w of [...ackWaiters]) w();
        res.writeHead(204).end();
      });
      return;
    }
    // A stopping proxy's goodbye and certificate status reports (dream domains), taken as the real api does.
    if (req.method === 'POST' && (url.pathname === '/v1/internal/routes/leave' || url.pathname === '/v1/internal/certs/status')) { req.resume(); req.on('end', () => res.writeHead(204).end()); return; }
    res.writeHead(404).end();
  });
  const port = await listen(server, opts.port);
  return {
    url: `http://127.0.0.1:${port}`,
    acks,
    polls,
    get version() { return version; },
    /** Publishes a new table version and wakes held polls; returns the new version. */
    setRoutes(next: TestRoute[]): number {
      routes = next;
      version++;
      for (const w of [...waiters]) w();
      return version;
    },
    waitForAck(v: number, timeoutMs = 15_000): Promise<Ack> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const a = acks.find((x) => x.version >= v);
          if (a) { ackWaiters.delete(check); clearTimeout(t); resolve(a); }
        };
        const t = setTimeout(() => { ackWaiters.delete(check); reject(new Error(`no ack for version ${v}`)); }, timeoutMs);
        ackWaiters.add(check);
        check();
      });
    },
    close: () => closeServer(server),
  };
}
