// Keeps the route table in step with the api: long-poll GET /v1/internal/routes, apply each new
// version, cache it on disk, and ack it once requests to removed endpoints have drained.
// While the api is unreachable or answers something unusable it backs off and the last table (or the
// cached one) keeps serving; that is logged once per outage (then every 5 minutes), not per retry.
// An entry of a table that cannot be read keeps that app's last good entry (logged once per problem).
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { apiRequest } from '../api-request.js';
import type { EndpointState } from '../endpoints.js';
import { checkSnapshot, removedEndpoints, RouteTable, type RouteSnapshot } from '../table.js';
import { diffRoutes, unchanged, type RouteChanges } from '../table-diff.js';
import { ApiCalls, sleep } from './api-calls.js';
import { TableMender } from './mend.js';
import { OutageLog } from './outage.js';
import { TableCache } from './table-cache.js';

export interface RoutesSourceOptions {
  apiUrl: string;
  token: string;
  dataDir: string;
  drainTimeoutMs: number;
  endpoints: EndpointState;
  log: Logger;
  /** Seconds the api may hold a poll (the contract's `wait`). */
  waitSeconds?: number;
  /** This proxy's id towards the api (default: random per process). */
  proxyId?: string;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export const newProxyId = () => `proxy-${crypto.randomBytes(6).toString('hex')}`;

export class RoutesSource extends EventEmitter {
  /** Random per process: the api tracks acks per proxy instance. */
  readonly proxyId: string;
  table = RouteTable.empty();
  /** Resolves once there is a table to serve: from the cache or from the api, whichever comes first. */
  readonly ready: Promise<void>;
  /** Resolves once the on-disk cache has been read (and applied, if there was one). */
  readonly cacheLoaded: Promise<void>;
  private markCacheLoaded!: () => void;
  /** Resolves once the api has answered a poll and its table is applied. */
  readonly synced: Promise<void>;
  private markReady!: () => void;
  private markSynced!: () => void;
  private hasSynced = false;
  // Set after a failed poll: the api may have restarted (fresh in-memory version counter, no
  // record of our acks), so the next poll asks from scratch and we ack whatever it answers.
  private resync = true;
  private readonly stop = new AbortController();
  private ackChain: Promise<void> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private readonly cache: TableCache;
  private readonly outage: OutageLog;
  private readonly mender: TableMender;
  private readonly api: ApiCalls;

  constructor(private readonly o: RoutesSourceOptions) {
    super();
    this.proxyId = o.proxyId ?? newProxyId();
    this.cache = new TableCache(o.dataDir, o.log);
    this.outage = new OutageLog(o.log);
    this.mender = new TableMender(o.log);
    this.api = new ApiCalls(o, this.proxyId, this.stop.signal);
    this.ready = new Promise((r) => { this.markReady = r; });
    this.cacheLoaded = new Promise((r) => { this.markCacheLoaded = r; });
    this.synced = new Promise((r) => { this.markSynced = r; });
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves when a table with `version` (or later) is being served. */
  waitForVersion(version: number): Promise<void> {
    if (this.table.version >= version) return Promise.resolve();
    return new Promise((resolve) => {
      const on = (t: RouteTable) => { if (t.version >= version) { this.off('applied', on); resolve(); } };
      this.on('applied', on);
    });
  }

  /**
   * Stops polling and acking, then says goodbye: the caller (startProxy's close) calls this only
   * once this proxy serves nothing any more, so the api may stop waiting for its acks at once.
   */
  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
    await this.cache.flushed();
    if (this.loop) await this.api.leave();
  }

  private async run(): Promise<void> {
    const cached = await this.cache.load();
    // The cache serves until the api answers the first poll (which may be never, if it is down).
    if (cached && !this.stop.signal.aborted) {
      this.apply(cached, false);
      this.o.log.info({ version: cached.version, apps: cached.routes.length }, 'loaded cached routes');
    }
    this.markCacheLoaded();
    const min = this.o.backoffMinMs ?? 200;
    const max = this.o.backoffMaxMs ?? 5000;
    let delay = min;
    while (!this.stop.signal.aborted) {
      const started = Date.now();
      try {
        const useful = await this.pollOnce();
        delay = min;
        this.outage.recovered();
        // An api that answers a held poll at once without a change would make us spin: pace it.
        if (!useful && Date.now() - started < 200) await sleep(1000, this.stop.signal);
      } catch (e) {
        if (this.stop.signal.aborted) break;
        this.resync = true;
        this.outage.failed(e as Error, delay);
        await sleep(delay + Math.random() * delay * 0.2, this.stop.signal);
        delay = Math.min(max, delay * 2);
      }
    }
  }

  /** One long-poll. Returns whether it did something (changed the table or resynced). */
  private async pollOnce(): Promise<boolean> {
    const wait = this.o.waitSeconds ?? 25;
    // The first poll after start or after a failure asks with since=0 so the api answers at once.
    const since = this.resync ? 0 : this.table.version;
    const url = `${this.o.apiUrl}/v1/internal/routes?since=${since}&wait=${wait}&proxy=${encodeURIComponent(this.proxyId)}`;
    const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout((wait + 15) * 1000)]);
    const res = await apiRequest(url, { headers: { authorization: `Bearer ${this.o.token}`, accept: 'application/json' }, signal });
    if (res.status === 204 || res.status === 304) return false;
    if (res.status === 401 || res.status === 403) {
      throw new Error(`the api rejected the internal token (HTTP ${res.status}); check DREAM_INTERNAL_TOKEN / <dataDir>/internal-token`);
    }
    if (res.status !== 200) throw new Error(`api answered HTTP ${res.status}`);
    let raw: unknown;
    try { raw = JSON.parse(res.body); } catch (e) { throw new Error(`api answered a route table that is not JSON (${(e as Error).message})`); }
    const checked = checkSnapshot(raw);
    if (!checked.ok) throw new Error(`api answered a route table that is not {version, routes}: ${checked.why}`);
    const snap = this.mender.mend(checked.snapshot, checked.broken, this.table.routes);
    // Same version but other routes happens when a restarted api's counter meets ours.
    const { routes, changes } = diffRoutes(this.table.routes, snap.routes);
    const changed = snap.version !== this.table.version || !unchanged(changes);
    // The api's own text is cached when it is exactly the table served (nothing mended).
    const asSent = !checked.broken.length && (raw as { format?: unknown }).format === undefined ? res.body : undefined;
    if (changed) this.apply({ version: snap.version, routes }, asSent ?? true, changes);
    else if (this.resync) this.queueAck(snap.version, []);
    const wasResync = this.resync;
    this.resync = false;
    if (!this.hasSynced) { this.hasSynced = true; this.markSynced(); }
    return changed || wasResync;
  }

  /**
   * `changes`: how `snap` differs from the table served now (the new one is made from them).
   * `fromApi`: cache it (with the api's JSON for it, when that is exactly `snap`).
   */
  private apply(snap: RouteSnapshot, fromApi: boolean | string, changes?: RouteChanges): void {
    const prev = this.table;
    const next = new RouteTable(snap, prev, changes);
    const removed = removedEndpoints(prev, next);
    this.table = next;
    this.o.log.info({ version: next.version, apps: next.routes.length, removed }, 'routes applied');
    this.emit('applied', next);
    this.markReady();
    if (fromApi === false) return;
    this.cache.save(snap, typeof fromApi === 'string' ? fromApi : undefined);
    this.queueAck(next.version, removed);
  }

  /**
   * Acks go out in order, and each waits for its own drain after the previous ack: an ack for v
   * tells the api every endpoint removed up to v is idle.
   */
  private queueAck(version: number, removed: string[]): void {
    this.ackChain = this.ackChain.then(async () => {
      const t0 = Date.now();
      const idle = await this.o.endpoints.waitIdle(removed, this.o.drainTimeoutMs, this.stop.signal);
      if (this.stop.signal.aborted) return;
      if (!idle) this.o.log.warn({ version, removed, waitedMs: Date.now() - t0 }, 'drain timed out; acking anyway');
      if (await this.api.ack(version)) this.emit('acked', version);
    });
  }
}
