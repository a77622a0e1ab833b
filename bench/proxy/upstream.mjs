// A minimal app replica for the proxy benchmark: answers every request with a small body. Plain JS
// on plain node, so no tsx loader thread shares the two cores with what is measured. With a
// certificate and key it serves HTTPS itself: the "direct over HTTPS" baseline (an app terminating
// its own TLS), against which a proxy's HTTPS hop adds only the hop.
//   node bench/proxy/upstream.mjs PORT [CERT_FILE KEY_FILE]
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const port = Number(process.argv[2] ?? '0');
const [certFile, keyFile] = process.argv.slice(3, 5);
const body = Buffer.from('hello from the bench upstream\n');
const handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
};
(certFile ? https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, handler) : http.createServer(handler))
  .listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
