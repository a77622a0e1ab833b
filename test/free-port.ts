// A free loopback port for a test's server, free over TCP and UDP (the .dream DNS listens on both).
// Binding port 0 and closing leaves the kernel free to pick the same number again on the next
// call: Pebble once got one port for both its ACME and management listeners (two freePort() calls
// in a row) and stopped with "address already in use", failing a CI run. A number is therefore
// handed out once per process; another process (a unit test binding port 0) can still take it
// before it is bound, which is rare.
import dgram from 'node:dgram';
import net from 'node:net';

const handedOut = new Set<number>();

const tcpPort = () => new Promise<number>((resolve, reject) => {
  const s = net.createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
});
const udpFree = (port: number) => new Promise<boolean>((resolve) => {
  const u = dgram.createSocket('udp4');
  u.once('error', () => resolve(false));
  u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
});

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await tcpPort();
    if (handedOut.has(port) || !(await udpFree(port))) continue;
    handedOut.add(port);
    return port;
  }
}
