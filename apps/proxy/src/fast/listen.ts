// Puts the fast path in front of a node server's own connection handling: the server still
// listens (and counts connections for close()), but each accepted socket starts on the fast path;
// node's handler only gets the ones the fast path hands off (or that `wanted` declines, like
// HTTP/2 sessions on the TLS listener).
import type net from 'node:net';
import type { Socket } from 'node:net';
import { ClientConnection, type FastListener } from './connection.js';

export function takeOverConnections(
  server: net.Server,
  event: 'connection' | 'secureConnection',
  o: Omit<FastListener, 'handOff'>,
  wanted: (s: Socket) => boolean = () => true,
  onNodeSocket: (s: Socket) => void = () => {},
): void {
  // Node registers its HTTP machinery as the listener of this event; we call it ourselves.
  const nodeHandlers = server.listeners(event) as Array<(s: Socket) => void>;
  server.removeAllListeners(event);
  const handOff = (s: Socket) => {
    onNodeSocket(s);
    for (const h of nodeHandlers) h.call(server, s);
  };
  const l: FastListener = { ...o, handOff };
  server.on(event, (s: Socket) => {
    if (wanted(s)) new ClientConnection(s, l);
    else handOff(s);
  });
}
