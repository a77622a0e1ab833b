// The app the log bench deploys: an HTTP server whose GET /emit?rate=R&secs=S&tag=T prints
// "B <tag> <seq> <wall-clock ms>" lines at R lines/s for S seconds (rate 0: as fast as stdout drains,
// `count` lines). The container shares the host's clock, so the bench measures write → receive.
export const EMITTER = `
const http = require('http');
const now = () => performance.timeOrigin + performance.now();
function emit(rate, secs, tag, count) {
  const total = rate > 0 ? Math.round(rate * secs) : count;
  const t0 = now();
  let seq = 0;
  const tick = () => {
    const due = rate > 0 ? Math.min(total, Math.floor((now() - t0) / 1000 * rate)) : Math.min(total, seq + 2000);
    let s = '';
    const t = now().toFixed(3);
    for (; seq < due; seq++) s += 'B ' + tag + ' ' + seq + ' ' + t + '\\n';
    const more = () => { if (seq < total) (rate > 0 ? setTimeout(tick, 1) : setImmediate(tick)); };
    if (s) process.stdout.write(s, more); else more();
  };
  tick();
}
const started = new Set();
http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/emit') {
    // Once per tag: a proxy may retry a GET whose connection broke after it was delivered.
    if (started.has(u.searchParams.get('tag'))) return res.end('started');
    started.add(u.searchParams.get('tag'));
    emit(Number(u.searchParams.get('rate')), Number(u.searchParams.get('secs') || 0), u.searchParams.get('tag'), Number(u.searchParams.get('count') || 0));
    return res.end('started');
  }
  res.end('ok');
}).listen(process.env.PORT);
`;
