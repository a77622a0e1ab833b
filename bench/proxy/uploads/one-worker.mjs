// An app with one worker, as a gunicorn sync worker or a single-threaded server: requests are
// handled one at a time, and handling one means reading its whole body first. Answers with the
// body's length.
//   node bench/proxy/uploads/one-worker.mjs PORT
import http from 'node:http';

const queue = [];
let busy = false;
const next = () => {
  while (!busy && queue.length > 0) {
    const [req, res] = queue.shift();
    // Its client left while it waited: nothing to do (its 'close' has come and gone).
    if (req.socket.destroyed) continue;
    busy = true;
    let n = 0;
    req.on('data', (d) => { n += d.length; });
    req.on('end', () => { res.end(`got ${n}\n`); });
    res.on('close', () => { busy = false; next(); });
    req.resume();
  }
};
http.createServer((req, res) => { req.pause(); queue.push([req, res]); next(); })
  .listen(Number(process.argv[2] ?? '0'), '127.0.0.1', () => process.stdout.write('ready\n'));
