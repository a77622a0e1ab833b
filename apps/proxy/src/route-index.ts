// A route table's look-up structures: host → route (the first route listing a host wins) and how
// many routes use each endpoint (one no longer used is drained). Built whole for a first table; for
// the next one from the previous index and the routes that changed (table-diff.ts), in time
// proportional to them (layered-map.ts), unless a host two routes list is involved: then which
// route wins depends on the order of all of them, and the index is built whole again.
import { LayeredMap } from './layered-map.js';
import type { RouteChanges } from './table-diff.js';
import { endpointKey, type Route } from './table.js';

/** What an index built from the previous one changed: hosts and endpoint keys that came and went. */
export interface IndexStep { index: RouteIndex; addedHosts: string[]; removedHosts: string[]; removedEndpoints: string[] }

export class RouteIndex {
  private constructor(
    readonly byHost: LayeredMap<string, Route>,
    /** Hosts more than one route lists. */
    private readonly shared: ReadonlySet<string>,
    /** Endpoint key → how many times the routes list it. */
    readonly endpointUse: LayeredMap<string, number>,
  ) {}

  static of(routes: readonly Route[]): RouteIndex {
    const byHost = new Map<string, Route>();
    const shared = new Set<string>();
    const use = new Map<string, number>();
    for (const r of routes) {
      for (const h of r.hosts) { const owner = byHost.get(h); if (!owner) byHost.set(h, r); else if (owner !== r) shared.add(h); }
      for (const e of r.endpoints) { const k = endpointKey(e); use.set(k, (use.get(k) ?? 0) + 1); }
    }
    return new RouteIndex(LayeredMap.of(byHost), shared, LayeredMap.of(use));
  }

  /** The index after `c`, or null when it must be built whole (routes moved, a shared host touched). */
  step(c: RouteChanges): IndexStep | null {
    if (!c.sameOrder) return null;
    const hosts = new Map<string, Route | undefined>();
    for (const r of c.removed) {
      for (const h of r.hosts) { if (this.shared.has(h) || this.byHost.get(h) !== r) return null; hosts.set(h, undefined); }
    }
    for (const r of c.added) {
      for (const h of r.hosts) {
        const claimed = hosts.has(h) ? hosts.get(h) : this.byHost.get(h);
        if (claimed && claimed !== r) return null; // two routes would list it
        hosts.set(h, r);
      }
    }
    const use = new Map<string, number | undefined>();
    const count = (k: string) => (use.has(k) ? use.get(k) ?? 0 : this.endpointUse.get(k) ?? 0);
    for (const r of c.removed) for (const e of r.endpoints) { const k = endpointKey(e); const n = count(k) - 1; use.set(k, n > 0 ? n : undefined); }
    for (const r of c.added) for (const e of r.endpoints) { const k = endpointKey(e); use.set(k, count(k) + 1); }
    const addedHosts: string[] = [];
    const removedHosts: string[] = [];
    for (const [h, r] of hosts) { if (!r) removedHosts.push(h); else if (!this.byHost.has(h)) addedHosts.push(h); }
    const removedEndpoints = [...use].filter(([, n]) => n === undefined).map(([k]) => k);
    return { index: new RouteIndex(this.byHost.with(hosts), this.shared, this.endpointUse.with(use)), addedHosts, removedHosts, removedEndpoints };
  }
}
