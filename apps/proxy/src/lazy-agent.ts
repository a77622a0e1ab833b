// undici's Agent, created (and the package loaded) on first use: it only serves what the fast path
// hands to node:http and HTTP/2 streams, which many proxies never see; idle, it is memory for nothing.
// Each origin's pool reuses idle connections for the agent's keepAliveTimeout, or less once the app's
// unannounced idle timeout is learned (learned-idle.ts): from the fast path's pool, or from a FIN on
// one of this agent's connections that arrived while nothing was asked of it.
// Loaded with require(), not import(): node keeps a failed import() of a module rejected for the
// life of the process, while require() forgets a module that threw. The first request for this
// agent may well come while the proxy is out of file descriptors (EMFILE reading undici's files):
// with import(), HTTP/2 and every request handed to node:http then failed until a restart (measured:
// 503/502 on HTTP/2 with 33 of 256 descriptors in use, after the flood that caused it had ended).
// A load that failed is tried again by the next request.
import { createRequire } from 'node:module';
import type net from 'node:net';
import type { Agent, Dispatcher } from 'undici';
import type { LearnedIdleTimeouts } from './learned-idle.js';

export interface LazyDispatcher {
  get(): Promise<Dispatcher>;
  close(): Promise<void>;
}

export interface UpstreamAgentOptions extends Omit<Agent.Options, 'connect' | 'factory'> {
  connectTimeoutMs: number;
  keepAliveTimeout: number;
}

export function lazyAgent(options: UpstreamAgentOptions, learned?: LearnedIdleTimeouts): LazyDispatcher {
  let agent: Promise<Agent> | null = null;
  const make = async () => {
    const { Agent, Pool, buildConnector } = createRequire(import.meta.url)('undici') as typeof import('undici');
    const { connectTimeoutMs, ...rest } = options;
    const connect = buildConnector({ timeout: connectTimeoutMs });
    return new Agent({
      ...rest,
      // The agent makes a new pool for an origin once all connections of the old one closed — as
      // an app closing idle connections closes them all — so a learned timeout takes effect there.
      factory: (origin, opts) => {
        const key = String(origin).replace(/^http:\/\//, '');
        const keep = learned ? learned.keepMs(key, Date.now(), options.keepAliveTimeout) : options.keepAliveTimeout;
        // No reuse at all: undici's pipelining 0 means no keep-alive.
        const limits = keep <= 0 ? { pipelining: 0 } : { keepAliveTimeout: keep, keepAliveMaxTimeout: keep };
        return new Pool(origin, {
          ...opts, ...limits,
          connect: (o, cb) => connect(o, (err, socket) => { if (socket && learned) watchIdleClose(socket, key, learned); (cb as (e: Error | null, s: net.Socket | null) => void)(err, socket); }),
        });
      },
    });
  };
  return {
    get: () => (agent ??= make().catch((e: unknown) => { agent = null; throw e; })),
    close: async () => { if (agent) await (await agent).close(); },
  };
}

/**
 * Learns from a FIN that arrived while the connection was idle: nothing written since the last
 * bytes read (a request in flight would have been). undici reads in paused mode ('readable' +
 * read()), so this listens to 'readable' too, and only notes the time: a 'data' listener would
 * take the bytes from undici.
 */
function watchIdleClose(socket: net.Socket, key: string, learned: LearnedIdleTimeouts): void {
  let lastRead = 0;
  let writtenThen = 0;
  socket.on('readable', () => {
    if (socket.readableLength === 0) return; // end of stream, not bytes
    lastRead = Date.now();
    writtenThen = socket.bytesWritten;
  });
  socket.once('end', () => {
    if (lastRead && socket.bytesWritten === writtenThen) learned.observe(key, lastRead, Date.now());
  });
}
