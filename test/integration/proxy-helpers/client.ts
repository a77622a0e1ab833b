// A tiny client: one request with an explicit Host (plain or over TLS), one WebSocket ping.
import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import { WebSocket } from 'ws';

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }
/** A reply over TLS, with the protocol ALPN settled on (false: none was offered). */
export interface TlsReply extends Reply { alpn: string | false | null }

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  agent?: http.Agent | false;
  body?: string;
  /** No byte for this long: the request is destroyed with an error whose code is 'TIMEOUT'. */
  timeoutMs?: number;
}

export interface TlsRequestOptions extends RequestOptions {
  agent?: https.Agent | false;
  /** SNI; the Host header by default. */
  servername?: string;
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  ALPNProtocols?: string[];
}

/** One request to the proxy with an explicit Host header (fetch cannot set Host). */
export function request(port: number, host: string, path = '/', opts: RequestOptions = {}): Promise<Reply> {
  return send(http, { ...base(port, host, path, opts), agent: opts.agent }, opts).then((r) => r.reply);
}

/**
 * The same over TLS: SNI `servername` (default: the Host), verified against `ca` (or not, with
 * `rejectUnauthorized: false`); options left out are not sent, so an agent's own (say its
 * rejectUnauthorized) apply.
 */
export function tlsRequest(port: number, host: string, path = '/', opts: TlsRequestOptions = {}): Promise<TlsReply> {
  const options: https.RequestOptions = { ...base(port, host, path, opts), agent: opts.agent, servername: opts.servername ?? host };
  if (opts.ca !== undefined) options.ca = opts.ca;
  if (opts.rejectUnauthorized !== undefined) options.rejectUnauthorized = opts.rejectUnauthorized;
  if (opts.ALPNProtocols) (options as tls.ConnectionOptions).ALPNProtocols = opts.ALPNProtocols;
  return send(https, options, opts).then(({ reply, alpn }) => ({ ...reply, alpn }));
}

function base(port: number, host: string, path: string, opts: RequestOptions): http.RequestOptions {
  const o: http.RequestOptions = { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host, ...opts.headers } };
  if (opts.timeoutMs !== undefined) o.timeout = opts.timeoutMs;
  return o;
}

function send(mod: typeof http | typeof https, options: http.RequestOptions, opts: RequestOptions): Promise<{ reply: Reply; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = mod.request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ reply: { status: res.statusCode ?? 0, headers: res.headers, body }, alpn: (res.socket as tls.TLSSocket | null)?.alpnProtocol ?? null }));
      res.on('error', reject);
    });
    if (opts.timeoutMs !== undefined) req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
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
