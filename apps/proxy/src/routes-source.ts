// Keeps the route table in step with the api: long-poll GET /v1/internal/routes, apply each new
// version, cache it on disk, and ack it once requests to removed endpoints have drained.
// While the api is unreachable or answers something unusable it backs off and the last table (or the
// cached one) keeps serving; that is logged once per outage (then every 5 minutes), not per retry.
// An entry of a table that cannot be read keeps that app's last good entry (logged once per problem).
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { apiRequest } from './api-request.js';
import { cacheFile, readCachedRoutes, saveCachedRoutes } from './cache.js';
import type { EndpointState } from './endpoints.js';
import { checkSnapshot, removedEndpoints, RouteTable, type BrokenEntry, type Route, type RouteSnapshot } from './table.js';

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

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });

export const newProxyId = () => `proxy-${crypto.randomBytes(6).toString('hex')}`;

/** While polls keep failing, a reminder at most this often (the first failure is logged at once). */
export const FAILURE_REMINDER_MS = 5 * 60_000;
/** How long a stopping proxy gives the api to take its goodbye. */
const LEAVE_TIMEOUT_MS = 2000;

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
  private saveChain: Promise<void> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private readonly file: string;
  /** The outage under way: since when, how many polls failed, when it was last logged. */
  private failing: { since: number; failures: number; loggedAt: number } | null = null;
  /** Broken entries already logged ("app: why"), so a table that stays broken is not logged again. */
  private reported = new Set<string>();

  constructor(private readonly o: RoutesSourceOptions) {
    super();
    this.proxyId = o.proxyId ?? newProxyId();
    this.file = cacheFile(o.dataDir);
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
    await this.saveChain;
    await this.leave();
  }

  private left = false;

  /**
   * POST /v1/internal/routes/leave, one attempt: a proxy stopping does not wait for an api that is
   * down. Without it the api still stops counting this proxy once PROXY_TTL_MS (60 s) has passed.
   */
  private async leave(): Promise<void> {
    if (this.left || !this.loop) return;
    this.left = true;
    try {
      const res = await apiRequest(`${this.o.apiUrl}/v1/internal/routes/leave`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.o.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ proxy: this.proxyId }),
        signal: AbortSignal.timeout(LEAVE_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.o.log.info({ proxyId: this.proxyId }, 'said goodbye to the api: route switches no longer wait for this proxy');
    } catch (e) {
      this.o.log.warn({ proxyId: this.proxyId, err: (e as Error).message }, 'could not say goodbye to the api; route switches wait for this proxy until it expires (60 s)');
    }
  }

  private async run(): Promise<void> {
    const cache = await readCachedRoutes(this.file);
    // The cache serves until the api answers the first poll (which may be never, if it is down).
    if ('snapshot' in cache && !this.stop.signal.aborted) {
      this.apply(cache.snapshot, false);
      this.o.log.info({ version: cache.snapshot.version, apps: cache.snapshot.routes.length }, 'loaded cached routes');
    } else if ('unusable' in cache) {
      // Nothing of it is served: a half-read or misread table could send a host to the wrong app.
      this.o.log.warn({ file: this.file }, `route cache ${this.file} ignored: ${cache.unusable}; no app is served until the api answers (the file is replaced then)`);
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
        this.recovered();
        // An api that answers a held poll at once without a change would make us spin: pace it.
        if (!useful && Date.now() - started < 200) await sleep(1000, this.stop.signal);
      } catch (e) {
        if (this.stop.signal.aborted) break;
        this.resync = true;
        this.failed(e as Error, delay);
        await sleep(delay + Math.random() * delay * 0.2, this.stop.signal);
        delay = Math.min(max, delay * 2);
      }
    }
  }

  /** Logs the first failed poll of an outage, then a reminder at most every FAILURE_REMINDER_MS. */
  private failed(e: Error, retryInMs: number): void {
    const now = Date.now();
    if (!this.failing) {
      this.failing = { since: now, failures: 1, loggedAt: now };
      this.o.log.warn({ err: e.message, retryInMs }, 'route poll failed; serving the last known routes until the api answers (logged again only every 5 minutes while it lasts)');
      return;
    }
    this.failing.failures++;
    if (now - this.failing.loggedAt < FAILURE_REMINDER_MS) return;
    this.failing.loggedAt = now;
    this.o.log.warn({ err: e.message, failures: this.failing.failures, since: new Date(this.failing.since).toISOString() }, 'route poll still failing; serving the last known routes');
  }

  private recovered(): void {
    if (!this.failing) return;
    this.o.log.info({ failures: this.failing.failures, downMs: Date.now() - this.failing.since }, 'route poll recovered');
    this.failing = null;
  }

  /**
   * The api's table with its broken entries (checkSnapshot) mended: such an app keeps the entry it
   * has now, so one app the api describes wrongly neither goes offline (404, NXDOMAIN, no more
   * renewals) nor holds back every other app's changes. An entry with no readable app name, or for
   * an app not served yet, cannot be mended and is left out. Each problem is logged once.
   */
  private mend(snap: RouteSnapshot, broken: BrokenEntry[]): RouteSnapshot {
    const keys = new Set(broken.map((b) => `${b.app ?? `entry ${b.index}`}: ${b.why}`));
    const fresh = broken.filter((b) => !this.reported.has(`${b.app ?? `entry ${b.index}`}: ${b.why}`));
    if (fresh.length) {
      this.o.log.warn({ version: snap.version, broken: fresh }, `the api's route table has ${broken.length} entr${broken.length === 1 ? 'y' : 'ies'} that cannot be read; ${fresh.map((b) => b.app ?? `entry ${b.index}`).join(', ')} keep${fresh.length === 1 ? 's' : ''} the last good route (left out if it had none)`);
    } else if (!broken.length && this.reported.size) {
      this.o.log.info({ version: snap.version }, "the api's route table is whole again");
    }
    this.reported = keys;
    if (!broken.length) return snap;
    const have = new Set(snap.routes.map((r) => r.app));
    const kept: Route[] = [];
    for (const b of broken) {
      const last = b.app !== undefined && !have.has(b.app) ? this.table.routes.find((r) => r.app === b.app) : undefined;
      if (last) { kept.push(last); have.add(last.app); }
    }
    return { version: snap.version, routes: [...snap.routes, ...kept] };
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
    const snap = this.mend(checked.snapshot, checked.broken);
    // Same version but other routes happens when a restarted api's counter meets ours.
    const changed = snap.version !== this.table.version || JSON.stringify(snap.routes) !== JSON.stringify(this.table.routes);
    if (changed) this.apply(snap, true);
    else if (this.resync) this.queueAck(snap.version, []);
    const wasResync = this.resync;
    this.resync = false;
    if (!this.hasSynced) { this.hasSynced = true; this.markSynced(); }
    return changed || wasResync;
  }

  private apply(snap: RouteSnapshot, fromApi: boolean): void {
    const prev = this.table;
    const next = new RouteTable(snap, prev);
    const removed = removedEndpoints(prev, next);
    this.table = next;
    this.o.log.info({ version: next.version, apps: next.routes.length, removed }, 'routes applied');
    this.emit('applied', next);
    this.markReady();
    if (!fromApi) return;
    this.saveChain = this.saveChain
      .then(() => saveCachedRoutes(this.file, snap))
      .catch((e) => this.o.log.error({ err: (e as Error).message, file: this.file }, 'could not cache routes'));
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
      await this.postAck(version);
    });
  }

  private async postAck(version: number): Promise<void> {
    let delay = this.o.backoffMinMs ?? 200;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        const res = await apiRequest(`${this.o.apiUrl}/v1/internal/routes/ack`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.o.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ proxy: this.proxyId, version }),
          signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(10_000)]),
        });
        if (res.ok) { this.o.log.info({ version, ...(failures ? { failures } : {}) }, 'routes acked'); this.emit('acked', version); return; }
        // A 4xx other than timeouts/throttling will not get better by retrying.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          this.o.log.error({ version, status: res.status }, 'api refused the routes ack');
          return;
        }
        throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        if (this.stop.signal.aborted) return;
        // The first failure says so; the retries are quiet (the api being down is logged by the poll).
        if (failures++ === 0) this.o.log.warn({ version, err: (e as Error).message, retryInMs: delay }, 'routes ack failed; retrying until the api takes it');
        await sleep(delay, this.stop.signal);
        delay = Math.min(this.o.backoffMaxMs ?? 5000, delay * 2);
      }
    }
  }
}
