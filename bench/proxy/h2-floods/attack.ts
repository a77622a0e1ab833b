// The attacker, in its own process: a frame-level flood (test/integration/proxy-helpers/h2-floods.ts)
// on one connection for `--seconds`; with `--reconnect`, a new connection each time the server sends
// GOAWAY or closes. `--kind continuation` floods CONTINUATION frames instead. Prints one line per
// connection (every 20th when reconnecting) and a last { sent, conns }.
import fs from 'node:fs';
import { continuationFlood, rapidReset } from '../../../test/integration/proxy-helpers/h2-floods.js';

const [port, caPath] = process.argv.slice(2);
const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const seconds = Number(arg('--seconds') ?? 10);
const reconnect = process.argv.includes('--reconnect');
const kind = arg('--kind') ?? 'rapid-reset';
const ca = fs.readFileSync(caPath!);
const t0 = Date.now();
let sent = 0, conns = 0;
while (Date.now() - t0 < seconds * 1000) {
  conns++;
  const o = { port: Number(port), ca, servername: 'rr.dream', authority: 'rr.dream', capMs: Math.max(1, seconds * 1000 - (Date.now() - t0)), stopAtGoaway: reconnect };
  const r = kind === 'continuation' ? await continuationFlood(o) : await rapidReset({ ...o, path: '/attack' });
  sent += r.sent;
  if (!reconnect || conns % 20 === 1) console.log(JSON.stringify({ ms: Date.now() - t0, conn: conns, ...r }));
  if (!reconnect) break;
}
console.log(JSON.stringify({ sent, conns }));
process.exit(0);
