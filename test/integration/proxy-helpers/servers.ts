// Listening and closing an http.Server on 127.0.0.1, for the fixtures here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const listen = (s: http.Server, port = 0) => new Promise<number>((r) => s.listen(port, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
export const closeServer = (s: http.Server) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); });
