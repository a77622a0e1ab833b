// Ping/pong and idle timeout for a server-side socket: a peer that stops answering pings is
// terminated; a socket with no traffic either way for `idleMs` is closed (4000 "idle").
import type { WebSocket } from 'ws';

export function heartbeat(ws: WebSocket, pingMs: number, idleMs: number, activity?: (touch: () => void) => void): () => void {
  let alive = true;
  let lastActive = Date.now();
  const touch = () => { lastActive = Date.now(); };
  ws.on('pong', () => { alive = true; });
  ws.on('message', touch);
  activity?.(touch);
  const origSend = ws.send.bind(ws);
  // Outgoing lines count as activity too: a busy log tail is not idle.
  ws.send = ((data: unknown, ...rest: unknown[]) => { touch(); return (origSend as (...a: unknown[]) => void)(data, ...rest); }) as typeof ws.send;
  const ping = setInterval(() => {
    if (!alive) { ws.terminate(); return; }
    alive = false;
    ws.ping();
  }, pingMs);
  const idle = setInterval(() => {
    if (Date.now() - lastActive > idleMs) ws.close(4000, 'idle');
  }, Math.min(idleMs, 1000));
  ping.unref();
  idle.unref();
  return () => { clearInterval(ping); clearInterval(idle); };
}
