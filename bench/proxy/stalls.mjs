// How much of a running process's time this box takes away: a busy loop reading the clock, every
// gap over 50 µs counted. On bare metal the gaps are timer ticks of a few µs; in a VM they include
// the hypervisor's, which the guest does not account (no steal time here). A proxy that is running
// when the box stalls holds every request in flight, so this is what a hop is exposed to.
//   node bench/proxy/stalls.mjs SECONDS  → one JSON line
const seconds = Number(process.argv[2] ?? '5');
const end = process.hrtime.bigint() + BigInt(seconds * 1e9);
let last = process.hrtime.bigint();
let lostNs = 0;
let over50us = 0;
let over1ms = 0;
let maxNs = 0;
for (;;) {
  const now = process.hrtime.bigint();
  const gap = Number(now - last);
  last = now;
  if (gap > 50_000) {
    over50us++;
    lostNs += gap;
    if (gap > 1e6) over1ms++;
    if (gap > maxNs) maxNs = gap;
  }
  if (now > end) break;
}
process.stdout.write(`${JSON.stringify({ seconds, lostPct: (lostNs / (seconds * 1e7)), over50us, over1ms, maxMs: maxNs / 1e6 })}\n`);
