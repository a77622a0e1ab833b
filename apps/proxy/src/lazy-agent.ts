// undici's Agent, created (and the package loaded) on first use: it only serves what the fast path
// hands to node:http and HTTP/2 streams, which many proxies never see; idle, it is memory for nothing.
import type { Agent, Dispatcher } from 'undici';

export interface LazyDispatcher {
  get(): Promise<Dispatcher>;
  close(): Promise<void>;
}

export function lazyAgent(options: Agent.Options): LazyDispatcher {
  let agent: Promise<Agent> | null = null;
  return {
    get: () => (agent ??= import('undici').then((m) => new m.Agent(options))),
    close: async () => { if (agent) await (await agent).close(); },
  };
}
