// The proxy's few calls to the api (route long-polls, acks, certificate status) over node:http(s).
// Not the global fetch: that loads Node's bundled undici (~8 MB idle, a second HTTP stack next to
// the fast path's), and its promise can hang silently on a just-published docker-proxy port.
import http from 'node:http';
import https from 'node:https';

export interface ApiAnswer { status: number; ok: boolean; body: string }

/** Largest answer read (a route table of thousands of apps is well under this). */
const MAX_BODY = 32 * 1024 * 1024;

export function apiRequest(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const headers = { ...o.headers, ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) };
    const req = mod.request(u, { method: o.method ?? 'GET', headers, signal: o.signal }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_BODY) { req.destroy(new Error(`api answer larger than ${MAX_BODY} bytes`)); return; }
        parts.push(d);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, body: Buffer.concat(parts).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}
