// A reference point, not a proxy: the least any Node.js hop can cost. Bytes relayed between each
// client connection and its own upstream connection, no HTTP parsing, no pooling, no headers. Its
// p99 above direct is the floor for a proxy written in Node on this box (latency phase of run.ts).
// With a certificate and key it terminates TLS first: the floor for a Node HTTPS hop.
//   node bench/proxy/relay.mjs LISTEN_PORT UPSTREAM_PORT [CERT_FILE KEY_FILE]
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const [listenPort, upstreamPort] = process.argv.slice(2, 4).map(Number);
const [certFile, keyFile] = process.argv.slice(4, 6);
const relay = (client) => {
  client.setNoDelay(true);
  const up = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
  client.on('data', (b) => up.write(b));
  up.on('data', (b) => client.write(b));
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
};
const server = certFile
  ? tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), ALPNProtocols: ['http/1.1'] }, relay)
  : net.createServer({ noDelay: true }, relay);
server.listen(listenPort, '127.0.0.1');
