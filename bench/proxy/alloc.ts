// How much our proxy allocates per request, next to the bare Node relay (relay.mjs), over plain HTTP
// and TLS: the young-generation bytes V8 collects (`--trace-gc`'s scavenges) divided by the requests
// wrk completed. How often V8 collects says little by itself — it resizes the young generation as
// it goes, so the same allocation can mean 5× more or fewer collections — the bytes do not.
//   npx tsx bench/proxy/alloc.ts [--rate 10000] [--rounds 2] [--duration 8]   (--rate 0: saturation)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, bundledProxy, fakeApi, freePort, HOST, selfSigned, startOurs, startRelay, startUpstream, stopAll, waitReady } from './procs.js';
import { wrk } from './wrk.js';

const rate = Number(arg('rate', '10000'));
const rounds = Math.max(1, Number(arg('rounds', '2')));
const duration = Number(arg('duration', '8'));
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-alloc-'));

/** MB the scavenges logged in `file` so far freed. */
function collected(file: string): number {
  let mb = 0;
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/Scavenge ([\d.]+) \([\d.]+\) -> ([\d.]+) \(/g)) mb += Number(m[1]) - Number(m[2]);
  return mb;
}

async function main(): Promise<void> {
  const up = await freePort();
  await startUpstream(root, up);
  const { cert, key } = await selfSigned(tmp);
  const api = await fakeApi(up);
  const p = { http: await freePort(), https: await freePort(), relay: await freePort(), relayTls: await freePort() };
  const gc = { ours: path.join(tmp, 'ours.gc'), relay: path.join(tmp, 'relay.gc'), relayTls: path.join(tmp, 'relay-tls.gc') };
  const ours = await startOurs(root, await bundledProxy(root), { api, dataDir: path.join(tmp, 'data'), ...p, cert, key, workers: '1' }, { flags: ['--trace-gc'], stdout: gc.ours });
  await waitReady(p.https, true, ours);
  await startRelay(root, p.relay, up, undefined, gc.relay);
  await startRelay(root, p.relayTls, up, { cert, key }, gc.relayTls);
  const targets = [
    { name: 'dream proxy', url: `http://127.0.0.1:${p.http}/`, gc: gc.ours },
    { name: 'dream proxy (https)', url: `https://127.0.0.1:${p.https}/`, gc: gc.ours },
    { name: 'node relay', url: `http://127.0.0.1:${p.relay}/`, gc: gc.relay },
    { name: 'node tls relay', url: `https://127.0.0.1:${p.relayTls}/`, gc: gc.relayTls },
  ];
  console.log(`young-generation bytes collected a request, wrk -c50 ${duration} s ${rate ? `paced at ~${rate} req/s` : 'at saturation'}, ${rounds} round(s), node ${process.version}`);
  for (let r = 1; r <= rounds; r++) {
    for (const t of targets) {
      const before = collected(t.gc);
      const f = await wrk(t.name, t.url, { connections: 50, duration, host: HOST, pids: () => [], tmp, ...(rate ? { rate } : {}) });
      const kb = ((collected(t.gc) - before) * 1024) / (f.rps * duration);
      console.log(`round ${r} ${t.name.padEnd(20)} ${kb.toFixed(2)} kB a request (${Math.round(f.rps)} req/s, errors ${f.errors})`);
    }
  }
}

main().finally(() => { stopAll(); fs.rmSync(tmp, { recursive: true, force: true }); }).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
