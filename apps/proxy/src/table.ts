// The route table: the api's snapshot {version, routes} → Host lookup and endpoint picking. Pure.
import { normalizeHost } from './host.js';
import { RouteIndex } from './route-index.js';
import type { RouteChanges } from './table-diff.js';

export interface RouteEndpoint { host: string; port: number }
/** An endpoint as pick() hands it out: with its "host:port" key, one string per table, not one per request. */
export interface KeyedEndpoint extends RouteEndpoint { readonly key: string }
/**
 * `maxRequestBody` (bytes, 0: no limit) and `requestBuffering`: the app's own settings (PATCH
 * /v1/apps/:app), over the proxy's DREAM_PROXY_MAX_REQUEST_BODY / _REQUEST_BUFFERING when present.
 */
export interface Route { app: string; hosts: string[]; endpoints: RouteEndpoint[]; maxRequestBody?: number; requestBuffering?: boolean }
export interface RouteSnapshot { version: number; routes: Route[] }

/** Endpoints are identified by "host:port" everywhere (in-flight counts, down marks, drains). */
export function endpointKey(e: RouteEndpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** An entry of a snapshot that is not a valid route: which one, its app when that much is readable, and why. */
export interface BrokenEntry { index: number; app?: string; why: string }

/** A checked snapshot: its valid routes, and the entries left out because they are not valid. */
export type CheckedSnapshot = { ok: true; snapshot: RouteSnapshot; broken: BrokenEntry[] } | { ok: false; why: string };

const validEndpoint = (e: unknown): e is RouteEndpoint =>
  !!e && typeof e === 'object' && typeof (e as RouteEndpoint).host === 'string' && (e as RouteEndpoint).host.length > 0 &&
  Number.isInteger((e as RouteEndpoint).port) && (e as RouteEndpoint).port > 0 && (e as RouteEndpoint).port < 65536;

/** Why this entry is not a valid route, or its route. */
function checkEntry(r: unknown): Route | string {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return 'not an object';
  const { app, hosts, endpoints, maxRequestBody, requestBuffering } = r as Record<string, unknown>;
  if (typeof app !== 'string' || app.length === 0) return 'no app name';
  if (!Array.isArray(hosts)) return '`hosts` is not a list';
  const hs: string[] = [];
  for (const h of hosts) {
    const n = typeof h === 'string' ? normalizeHost(h) : null;
    if (n === null) return `host ${JSON.stringify(h)?.slice(0, 80)} is not a host name`;
    hs.push(n);
  }
  if (!Array.isArray(endpoints)) return '`endpoints` is not a list';
  const bad = endpoints.find((e) => !validEndpoint(e));
  if (bad !== undefined) return `endpoint ${JSON.stringify(bad)?.slice(0, 80)} is not {host, port}`;
  if (maxRequestBody !== undefined && !(Number.isSafeInteger(maxRequestBody) && (maxRequestBody as number) >= 0)) return '`maxRequestBody` is not a whole number ≥ 0';
  if (requestBuffering !== undefined && typeof requestBuffering !== 'boolean') return '`requestBuffering` is not true or false';
  const route: Route = { app, hosts: hs, endpoints: (endpoints as RouteEndpoint[]).map((e) => ({ host: e.host, port: e.port })) };
  if (maxRequestBody !== undefined) route.maxRequestBody = maxRequestBody as number;
  if (requestBuffering !== undefined) route.requestBuffering = requestBuffering;
  return route;
}

/**
 * Checks an untrusted snapshot (api answer or cache file). An entry with anything wrong in it is
 * left out whole and reported in `broken` — never half-read (a host list without its bad host, an
 * app without the endpoint that did not parse): the caller decides what to serve for it instead.
 */
export function checkSnapshot(raw: unknown): CheckedSnapshot {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, why: 'not an object' };
  const { version, routes } = raw as { version?: unknown; routes?: unknown };
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) return { ok: false, why: '`version` is not a whole number ≥ 0' };
  if (!Array.isArray(routes)) return { ok: false, why: '`routes` is not a list' };
  const out: Route[] = [];
  const broken: BrokenEntry[] = [];
  const apps = new Set<string>();
  routes.forEach((r, index) => {
    const c = checkEntry(r);
    const app = typeof (r as { app?: unknown })?.app === 'string' ? String((r as { app: string }).app).slice(0, 100) : undefined;
    if (typeof c === 'string') broken.push({ index, app, why: c });
    else if (apps.has(c.app)) broken.push({ index, app, why: 'a second entry for this app' });
    else { apps.add(c.app); out.push(c); }
  });
  return { ok: true, snapshot: { version, routes: out }, broken };
}

/** The valid routes of an untrusted snapshot (broken entries left out), or null when it is not a snapshot at all. */
export function parseSnapshot(raw: unknown): RouteSnapshot | null {
  const c = checkSnapshot(raw);
  return c.ok ? c.snapshot : null;
}

let serial = 0;

export class RouteTable {
  readonly version: number;
  readonly routes: readonly Route[];
  private readonly index: RouteIndex;
  // Round-robin cursor per app; carried over between versions so a new table does not reset
  // every app to its first endpoint.
  private readonly cursor: Map<string, number>;
  private readonly keyed = new Map<Route, KeyedEndpoint[]>();
  private readonly serial = ++serial;
  /** Built from `previous` and its changes: the hosts that came and went (the certificates follow them). */
  readonly hostChanges?: { added: string[]; removed: string[] };
  /** Built from `previous`: the endpoint keys it no longer routes to (removedEndpoints()), and which table that was. */
  private readonly removed?: { from: number; keys: string[] };

  /**
   * `changes`: how `snapshot` differs from `previous` (table-diff.ts, its unchanged routes being
   * previous's objects); the look-ups are then made from previous's in proportion to them.
   */
  constructor(snapshot: RouteSnapshot, previous?: RouteTable, changes?: RouteChanges) {
    this.version = snapshot.version;
    this.routes = snapshot.routes;
    const step = previous && changes ? previous.index.step(changes) : null;
    this.index = step?.index ?? RouteIndex.of(snapshot.routes);
    if (step) {
      this.hostChanges = { added: step.addedHosts, removed: step.removedHosts };
      this.removed = { from: previous!.serial, keys: step.removedEndpoints };
    }
    this.cursor = previous ? previous.cursor : new Map();
  }

  static empty(): RouteTable {
    return new RouteTable({ version: 0, routes: [] });
  }

  snapshot(): RouteSnapshot {
    return { version: this.version, routes: this.routes.map((r) => ({ ...r })) };
  }

  /** Host header → route, or null when no app is served at that host. */
  lookup(hostHeader: string | undefined | null): Route | null {
    const h = normalizeHost(hostHeader);
    return h === null ? null : this.index.byHost.get(h) ?? null;
  }

  /** An already normalised host (normalizeHost) → route; the per-request path skips normalising twice. */
  get(host: string): Route | null {
    return this.index.byHost.get(host) ?? null;
  }

  /**
   * A route's endpoints with their "host:port" keys, made once per table. Before, each request
   * built its key anew after pick(): a new string that every Map look-up of its exchange (in-flight
   * count, down mark, upstream pool) had to flatten and hash again.
   */
  keyedOf(route: Route): readonly KeyedEndpoint[] {
    let k = this.keyed.get(route);
    if (!k) { k = route.endpoints.map((e) => ({ host: e.host, port: e.port, key: endpointKey(e) })); this.keyed.set(route, k); }
    return k;
  }

  /**
   * Least-connections: the endpoint with the fewest requests in flight (`load`), ties broken in
   * round-robin order, skipping those `isDown` and those in `exclude` (already tried by this
   * request). With no `load` this is plain round-robin. When every remaining endpoint is marked
   * down we still return one: a down mark is a short-lived guess, and trying beats a certain 503.
   */
  pick(route: Route, isDown: (key: string) => boolean = () => false, exclude?: ReadonlySet<string>, load?: (key: string) => number): KeyedEndpoint | null {
    const n = route.endpoints.length;
    if (n === 0) return null;
    const eps = this.keyedOf(route);
    const start = (this.cursor.get(route.app) ?? 0) % n;
    let best = -1;
    let bestLoad = Infinity;
    let fallback = -1;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const key = eps[i]!.key;
      if (exclude?.has(key)) continue;
      if (isDown(key)) { if (fallback < 0) fallback = i; continue; }
      if (!load) { best = i; break; }
      const l = load(key);
      if (l < bestLoad) { best = i; bestLoad = l; if (l === 0) break; }
    }
    const i = best >= 0 ? best : fallback;
    if (i < 0) return null;
    this.cursor.set(route.app, i + 1);
    return eps[i]!;
  }

  /** The endpoint keys `prev` routed to and this table does not, when it was built from `prev`'s changes. */
  removedSince(prev: RouteTable): string[] | undefined {
    return this.removed?.from === prev.serial ? [...this.removed.keys] : undefined;
  }

  /** Every endpoint key in this table. */
  endpointKeys(): Set<string> {
    const s = new Set<string>();
    for (const r of this.routes) for (const e of r.endpoints) s.add(endpointKey(e));
    return s;
  }
}

/** Endpoint keys that `prev` routed to and `next` no longer does (they need draining). */
export function removedEndpoints(prev: RouteTable, next: RouteTable): string[] {
  const known = next.removedSince(prev);
  if (known) return known;
  const keep = next.endpointKeys();
  return [...prev.endpointKeys()].filter((k) => !keep.has(k));
}
