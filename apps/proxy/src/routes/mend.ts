// The api's table with its broken entries (table.ts checkSnapshot) mended: such an app keeps the
// entry it has now, so one app the api describes wrongly neither goes offline (404, NXDOMAIN, no
// more renewals) nor holds back every other app's changes. An entry with no readable app name, or
// for an app not served yet, cannot be mended and is left out. Each problem is logged once.
import type { Logger } from 'pino';
import type { BrokenEntry, Route, RouteSnapshot } from '../table.js';

const keyOf = (b: BrokenEntry) => `${b.app ?? `entry ${b.index}`}: ${b.why}`;

export class TableMender {
  /** Broken entries already logged ("app: why"), so a table that stays broken is not logged again. */
  private reported = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** `current`: the routes served now, where a broken app's last good entry comes from. */
  mend(snap: RouteSnapshot, broken: BrokenEntry[], current: readonly Route[]): RouteSnapshot {
    const fresh = broken.filter((b) => !this.reported.has(keyOf(b)));
    if (fresh.length) {
      this.log.warn({ version: snap.version, broken: fresh }, `the api's route table has ${broken.length} entr${broken.length === 1 ? 'y' : 'ies'} that cannot be read; ${fresh.map((b) => b.app ?? `entry ${b.index}`).join(', ')} keep${fresh.length === 1 ? 's' : ''} the last good route (left out if it had none)`);
    } else if (!broken.length && this.reported.size) {
      this.log.info({ version: snap.version }, "the api's route table is whole again");
    }
    this.reported = new Set(broken.map(keyOf));
    if (!broken.length) return snap;
    const have = new Set(snap.routes.map((r) => r.app));
    const kept: Route[] = [];
    for (const b of broken) {
      const last = b.app !== undefined && !have.has(b.app) ? current.find((r) => r.app === b.app) : undefined;
      if (last) { kept.push(last); have.add(last.app); }
    }
    return { version: snap.version, routes: [...snap.routes, ...kept] };
  }
}
