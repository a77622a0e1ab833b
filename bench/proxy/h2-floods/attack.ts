// The attacker, in its own process: a frame-level flood (test/integration/proxy-helpers/h2-floods.ts)
// on one connection for `--seconds`; with `--reconnect`, a new connection each time the server sends
// GOAWAY or closes. `--kind`: rapid-reset (the default), continuation; MadeYouReset (the server made
// to reset each request): myr-window-update, myr-data-closed, myr-content-length; reset-after-response
// (128 streams in flight, each reset once its response head came); cheap frames: ping, settings,
// priority, empty-data, window-update, window-update-stream (test/integration/proxy-helpers/h2-abuse.ts). Prints one line
// per connection (every 20th when reconnecting) and a last { sent, conns }.
import fs from 'node:fs';
import { cheapFlood, madeYouReset, resetAfterResponse, type CheapFloodKind, type MadeYouResetKind } from '../../../test/integration/proxy-helpers/h2-abuse.js';
import { continuationFlood, rapidReset, type FloodResult } from '../../../test/integration/proxy-helpers/h2-floods.js';
import { arg } from '../procs.js';

const [port, caPath] = process.argv.slice(2);
const seconds = Number(arg('seconds', '10'));
const reconnect = process.argv.includes('--reconnect');
const kind = arg('kind', 'rapid-reset');
const ca = fs.readFileSync(caPath!);
const t0 = Date.now();
let sent = 0, conns = 0;
while (Date.now() - t0 < seconds * 1000) {
  conns++;
  const o = { port: Number(port), ca, servername: 'rr.dream', authority: 'rr.dream', capMs: Math.max(1, seconds * 1000 - (Date.now() - t0)), stopAtGoaway: reconnect };
  const r: FloodResult = kind === 'continuation' ? await continuationFlood(o)
    : kind.startsWith('myr-') ? await madeYouReset({ ...o, path: '/attack', kind: kind.slice(4) as MadeYouResetKind })
    : kind === 'reset-after-response' ? await resetAfterResponse({ ...o, path: '/attack', concurrent: 128 })
    : kind === 'rapid-reset' ? await rapidReset({ ...o, path: '/attack' })
    : await cheapFlood({ ...o, kind: kind as CheapFloodKind });
  sent += r.sent;
  if (!reconnect || conns % 20 === 1) console.log(JSON.stringify({ ms: Date.now() - t0, conn: conns, ...r }));
  if (!reconnect) break;
}
console.log(JSON.stringify({ sent, conns }));
process.exit(0);
