// What a new snapshot changes against the table served now, route by route. A poll compared the
// two tables as JSON and built the new one from nothing: at 5 000 apps a one-route change held the
// event loop for 57-98 ms (bench/proxy/scale). Now the routes that stayed equal are the very
// objects served now, and the new table, the certificates and the drain work from what changed.
import type { Route } from './table.js';

export interface RouteChanges {
  /** Routes served now that the new table no longer has as they were (gone, or changed). */
  removed: Route[];
  /** Routes of the new table that are not served now as they are (new, or changed). */
  added: Route[];
  /** The routes in both kept their relative order (which route wins a host two list depends on it). */
  sameOrder: boolean;
}

// Plain loops: called for every route of every poll.
function sameRoute(a: Route, b: Route): boolean {
  if (a.app !== b.app || a.hosts.length !== b.hosts.length || a.endpoints.length !== b.endpoints.length) return false;
  if (a.maxRequestBody !== b.maxRequestBody || a.requestBuffering !== b.requestBuffering) return false;
  for (let i = 0; i < a.hosts.length; i++) if (a.hosts[i] !== b.hosts[i]) return false;
  for (let i = 0; i < a.endpoints.length; i++) {
    const x = a.endpoints[i]!;
    const y = b.endpoints[i]!;
    if (x.host !== y.host || x.port !== y.port) return false;
  }
  return true;
}

/** No route added, removed, changed or moved: the same table (what JSON.stringify of both said). */
export const unchanged = (c: RouteChanges): boolean => c.sameOrder && c.removed.length === 0 && c.added.length === 0;

/**
 * `next` with every route equal to the one served now for its app replaced by that object, and
 * the changes. Routes are checked snapshots (table.ts checkSnapshot): one per app, fields in order.
 */
export function diffRoutes(prev: readonly Route[], next: readonly Route[]): { routes: Route[]; changes: RouteChanges } {
  const routes: Route[] = new Array<Route>(next.length);
  const changes: RouteChanges = { removed: [], added: [], sameOrder: true };
  const take = (p: Route, r: Route, i: number) => {
    if (sameRoute(p, r)) routes[i] = p;
    else { routes[i] = r; changes.removed.push(p); changes.added.push(r); }
  };
  // The usual change (an endpoint moved, a domain added to an app): the same apps in the same places.
  let inPlace = prev.length === next.length;
  for (let i = 0; inPlace && i < next.length; i++) inPlace = next[i]!.app === prev[i]!.app;
  if (inPlace) {
    for (let i = 0; i < next.length; i++) take(prev[i]!, next[i]!, i);
    return { routes, changes };
  }
  const at = new Map<string, number>();
  prev.forEach((r, i) => at.set(r.app, i));
  let last = -1;
  const kept = new Set<string>();
  next.forEach((r, i) => {
    const j = at.get(r.app);
    if (j === undefined) { routes[i] = r; changes.added.push(r); return; }
    kept.add(r.app);
    if (j < last) changes.sameOrder = false;
    last = j;
    take(prev[j]!, r, i);
  });
  for (const p of prev) if (!kept.has(p.app)) changes.removed.push(p);
  return { routes, changes };
}
