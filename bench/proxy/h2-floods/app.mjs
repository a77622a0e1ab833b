// The app behind the proxy: holds each request HOLD ms (100), and prints once a second what it saw:
// requests received, most open at once, its connections (now and most at once).
import http from 'node:http';

const HOLD = Number(process.env.HOLD ?? 100);
let got = 0, open = 0, most = 0, conns = 0, mostConns = 0, total = 0;
const s = http.createServer((_req, res) => {
  got++; total++; most = Math.max(most, ++open);
  let done = false;
  const fin = () => { if (!done) { done = true; open--; } };
  res.on('close', fin);
  setTimeout(() => { if (!res.destroyed) res.end('ok'); fin(); }, HOLD);
});
s.on('connection', (c) => { conns++; mostConns = Math.max(mostConns, conns); c.on('close', () => conns--); });
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })));
setInterval(() => {
  console.log(JSON.stringify({ got, most, open, conns, mostConns, total }));
  got = 0; most = open; mostConns = conns;
}, 1000);
