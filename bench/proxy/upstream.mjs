// A minimal app replica for the proxy benchmark: answers every request with a small body. Plain JS
// on plain node, so no tsx loader thread shares the two cores with what is measured.
import http from 'node:http';

const port = Number(process.argv[2] ?? '0');
const body = Buffer.from('hello from the bench upstream\n');
http
  .createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  })
  .listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
