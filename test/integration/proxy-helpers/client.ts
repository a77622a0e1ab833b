// A tiny client: one request with an explicit Host, one WebSocket ping.
import http from 'node:http';
import { WebSocket } from 'ws';

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

/** One request to the proxy with an explicit Host header (fetch cannot set Host). */
export function request(port: number, host: string, path = '/', opts: { method?: string; headers?: Record<string, string>; agent?: http.Agent; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host, ...opts.headers }, agent: opts.agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Opens a WebSocket, sends 'ping', returns the first message (startUpstream's echo: `<name>:ping:<peer>`) and closes. */
export function wsPing(url: string, opts: WebSocket.ClientOptions): Promise<string> {
  const ws = new WebSocket(url, opts);
  return new Promise<string>((resolve, reject) => {
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (m) => { resolve(String(m)); ws.close(); });
    ws.on('error', reject);
  });
}
