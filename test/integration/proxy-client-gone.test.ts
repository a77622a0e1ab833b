// A client that goes away in the middle of a streamed request (request buffering off; buffered, the
// app never sees it: proxy-request-buffering.test.ts): the app must see its request end (the proxy
// closes the upstream connection), on the fast path as on node:http, instead of waiting for a body
// that can never arrive while the proxy holds both connections and the in-flight count.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlainProxyFor } from './proxy-helpers.js';

const TOKEN = 'int_client-gone';
let edge: Awaited<ReturnType<typeof startPlainProxyFor>>;
let app: http.Server;
/** What the app saw of each request, by path: 'aborted' once its connection closed before the body ended. */
const seen = new Map<string, string>();
const waiters = new Set<() => void>();

beforeAll(async () => {
  app = http.createServer((req, res) => {
    seen.set(req.url ?? '', 'started');
    for (const w of [...waiters]) w();
    req.on('data', () => {});
    req.on('end', () => res.end('ok'));
    req.on('close', () => { if (!req.complete) { seen.set(req.url ?? '', 'aborted'); for (const w of [...waiters]) w(); } });
  });
  edge = await startPlainProxyFor(TOKEN, app, { DREAM_PROXY_REQUEST_BUFFERING: 'off' });
});

afterAll(async () => {
  await edge?.close();
});

/** Resolves once the app saw `path` reach `state`, or with what it saw after `ms`. */
function appSees(path: string, state: string, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const check = () => { if (seen.get(path) === state) { waiters.delete(check); clearTimeout(t); resolve(state); } };
    const t = setTimeout(() => { waiters.delete(check); resolve(seen.get(path)); }, ms);
    waiters.add(check);
    check();
  });
}

describe('a client gone mid-upload', () => {
  // The fast path, and node:http (a repeated User-Agent, which node would drop, sends it there).
  it.each([
    ['the fast path', 'destroy', ''], ['the fast path', 'end', ''],
    ['node:http', 'destroy', 'User-Agent: a\r\nUser-Agent: b\r\n'], ['node:http', 'end', 'User-Agent: a\r\nUser-Agent: b\r\n'],
  ])('on %s (client %s): the app sees its request aborted', async (_path, how, extra) => {
    const path = `/upload-${how}-${extra ? 'node' : 'fast'}`;
    const s = net.connect(edge.proxy.port, '127.0.0.1');
    s.on('error', () => {});
    s.write(`POST ${path} HTTP/1.1\r\nHost: up.dream\r\n${extra}Content-Length: 1000000\r\n\r\n${'x'.repeat(1000)}`);
    expect(await appSees(path, 'started', 5000)).toBe('started');
    // Gone with 999 000 bytes of the body unsent: closed outright, or only its sending side (FIN).
    if (how === 'destroy') s.destroy(); else s.end();
    // Before: the fast path took the FIN for a half-close awaiting its answer, and the app waited
    // for the rest of the body for as long as it allowed (the proxy forever).
    expect(await appSees(path, 'aborted', 3000)).toBe('aborted');
    s.destroy();
  });
});
