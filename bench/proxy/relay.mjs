// A reference point, not a proxy: the least any Node.js hop can cost. Bytes relayed between each
// client connection and its own upstream connection, no HTTP parsing, no pooling, no headers. Its
// p99 above direct is the floor for a proxy written in Node on this box (latency phase of run.ts).
//   node bench/proxy/relay.mjs LISTEN_PORT UPSTREAM_PORT
import net from 'node:net';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
net.createServer({ noDelay: true }, (client) => {
  const up = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
  client.on('data', (b) => up.write(b));
  up.on('data', (b) => client.write(b));
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
}).listen(listenPort, '127.0.0.1');
