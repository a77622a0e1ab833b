// A reference point for new TLS connections: the least a Node.js TLS server does per connection —
// handshake, read one request, write a fixed response, close. No proxying.
//   node bench/proxy/tls-hello.mjs LISTEN_PORT CERT_FILE KEY_FILE
import fs from 'node:fs';
import tls from 'node:tls';

const [port, certFile, keyFile] = process.argv.slice(2);
const response = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nhello\n');
tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), ALPNProtocols: ['http/1.1'] }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.once('data', () => socket.end(response));
}).listen(Number(port), '127.0.0.1');
