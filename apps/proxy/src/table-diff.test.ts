// A table made from the previous one and what changed answers exactly as one built whole, says
// which hosts and endpoints came and went, and costs in proportion to the change.
import { describe, expect, it } from 'vitest';
import { diffRoutes, unchanged } from './table-diff.js';
import { endpointKey, removedEndpoints, RouteTable, type Route, type RouteSnapshot } from './table.js';

const route = (i: number, port = 5000): Route => ({ app: `app${i}`, hosts: [`app${i}.dream`, `www.app${i}.example.com`], endpoints: [{ host: `10.0.${i >> 8}.${i & 255}`, port }] });

/** `next` made from `prev` as the routes source makes it, and the same snapshot built whole. */
function step(prev: RouteTable, snap: RouteSnapshot) {
  const { routes, changes } = diffRoutes(prev.routes, snap.routes);
  return { next: new RouteTable({ version: snap.version, routes }, prev, changes), whole: new RouteTable(snap), changes };
}

/** Every host either table knows answers the same; removed endpoints are what the whole tables say. */
function expectSame(prev: RouteTable, next: RouteTable, whole: RouteTable) {
  const hosts = new Set([...prev.routes, ...next.routes].flatMap((r) => r.hosts));
  // The hosts answered differently, each with both answers: one expect() a table, not one a host
  // (an expect() a host was most of the 400-table cases' time: 20 s on a loaded box, the test's bound).
  const differ = [...hosts].filter((h) => next.get(h)?.app !== whole.get(h)?.app).map((h) => [h, next.get(h)?.app, whole.get(h)?.app]);
  expect(differ).toEqual([]);
  const keep = whole.endpointKeys();
  expect(removedEndpoints(prev, next).sort()).toEqual([...prev.endpointKeys()].filter((k) => !keep.has(k)).sort());
}

describe('a route table made from the changes', () => {
  it('a changed proxy setting alone is a change: the new route is served', () => {
    const prev = new RouteTable({ version: 1, routes: [route(1), route(2)] });
    const { next, changes } = step(prev, { version: 2, routes: [route(1), { ...route(2), maxRequestBody: 1000, requestBuffering: false }] });
    expect(unchanged(changes)).toBe(false);
    expect(next.get('app2.dream')).toMatchObject({ maxRequestBody: 1000, requestBuffering: false });
    // Its endpoints stay: nothing to drain.
    expect(removedEndpoints(prev, next)).toEqual([]);
  });

  it('one route changed among 5 000: the same look-ups as built whole, the hosts and endpoints that came and went, in a fraction of the time', () => {
    const prev = new RouteTable({ version: 1, routes: Array.from({ length: 5000 }, (_, i) => route(i)) });
    const routes = prev.routes.map((r, i) => (i === 7 ? route(7, 6000) : i === 8 ? { ...r, hosts: [...r.hosts, 'shop.example.com'] } : r)).filter((_, i) => i !== 9);
    const { next, whole, changes } = step(prev, { version: 2, routes: [...routes, route(5000)] });
    expect(changes.removed.map((r) => r.app).sort()).toEqual(['app7', 'app8', 'app9']);
    expect(next.routes[0]).toBe(prev.routes[0]); // unchanged routes are the same objects
    expect(next.hostChanges).toEqual({ added: ['shop.example.com', 'app5000.dream', 'www.app5000.example.com'], removed: ['app9.dream', 'www.app9.example.com'] });
    expect(removedEndpoints(prev, next).sort()).toEqual([endpointKey(route(7).endpoints[0]!), endpointKey(route(9).endpoints[0]!)].sort());
    expectSame(prev, next, whole);
    // Built from the changes vs built whole (medians of 15): before, every table was built whole.
    const time = (make: () => unknown) => { const t: number[] = []; for (let k = 0; k < 15; k++) { const s = performance.now(); make(); t.push(performance.now() - s); } return t.sort((a, b) => a - b)[7]!; };
    const snap = { version: 2, routes: next.routes as Route[] };
    expect(time(() => new RouteTable(snap, prev, changes)) * 5).toBeLessThan(time(() => new RouteTable(snap, prev)));
  });

  // Few names: many shared by two apps (built whole again); many: mostly made from the changes, past the overlay's fold.
  it.each([[30, 40], [300, 30_000]])('random changes to %i apps over %i names (shared hosts, reordered, added, removed apps), 400 tables in a row: each answers as one built whole', (apps, names) => {
    let seed = 7; // mulberry32: the same sequence every run
    const rnd = (n: number) => { let t = (seed = (seed + 0x6d2b79f5) | 0); t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n); };
    const randomRoute = (app: string): Route => ({
      app, hosts: Array.from({ length: 1 + rnd(3) }, () => `h${rnd(names)}.dream`), endpoints: Array.from({ length: rnd(3) }, () => ({ host: `10.0.0.${rnd(8)}`, port: 80 })),
    });
    let routes = Array.from({ length: apps }, (_, i) => randomRoute(`a${i}`));
    let made = 0;
    let table = new RouteTable({ version: 1, routes });
    let hosts = new Set(routes.flatMap((r) => r.hosts));
    for (let v = 2; v < 400; v++) {
      const next = routes.map((r) => (rnd(apps) < 2 ? randomRoute(r.app) : r)).filter(() => rnd(apps * 2) !== 0);
      if (rnd(4) === 0) next.push(randomRoute(`a${apps + v}`));
      if (rnd(10) === 0) next.reverse();
      const { next: t, whole, changes } = step(table, { version: v, routes: next });
      expect(unchanged(changes)).toBe(JSON.stringify(next) === JSON.stringify(table.routes));
      expectSame(table, t, whole);
      const now = new Set(next.flatMap((r) => r.hosts));
      if (t.hostChanges) { // what a certificate manager told only the changes ends up with
        made++;
        for (const h of t.hostChanges.removed) hosts.delete(h);
        for (const h of t.hostChanges.added) hosts.add(h);
        expect([...hosts].sort()).toEqual([...now].sort());
      }
      hosts = now;
      routes = next;
      table = t;
    }
    expect(made).toBeGreaterThan(names > 1000 ? 200 : 10);
  }, 60_000); // CPU-bound: ~1 s alone, many times that beside other test files on a 2-core CI box
});
