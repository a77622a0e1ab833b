// What a newly applied route table changes beyond routing: every host it serves gets a certificate
// ordered (in the background; a no-op without TLS), and WebSockets opened through a host that no
// longer routes to their app are closed.
import type { ProxyContext } from '../context.js';
import type { RouteTable } from '../table.js';
import type { RoutesSource } from './source.js';

export function followRouteChanges(routes: RoutesSource, ctx: ProxyContext): void {
  const { certs, log } = ctx;
  routes.on('applied', (t: RouteTable) => {
    try {
      // A table made from the previous one's changes says which hosts came and went: at 5 000 apps,
      // handing every host over for one changed route was a good part of the change's cost.
      if (t.hostChanges && certs.change) certs.change(t.hostChanges.added, t.hostChanges.removed);
      else certs.ensure([...new Set(t.routes.flatMap((r) => r.hosts))]);
    } catch (e) { log.error({ err: (e as Error).message }, 'certificate ensure failed'); }
  });
  // A WebSocket stays with the app it was opened to, so one opened through a domain since removed or
  // moved to another app would keep reaching the old app for as long as the client holds it. It
  // gets a Close frame, 1001 going away (clients reconnect, and reach whatever serves the name now),
  // as Caddy closes its WebSockets on a config change; those whose host still routes to their app
  // are left alone (an endpoint leaving is a drain: the app closes them when its container stops).
  routes.on('applied', (t: RouteTable) => {
    let closed = 0;
    for (const u of ctx.upgraded.values()) if (!u.ending && t.get(u.host)?.app !== u.app) { u.end(); closed++; }
    if (closed) log.info({ version: t.version, closed }, 'closed WebSockets whose host no longer routes to their app (1001 going away)');
  });
}
