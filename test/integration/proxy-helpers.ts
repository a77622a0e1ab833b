// Test fixtures for the proxy suites, one concern per file in proxy-helpers/: a fake api that
// implements the proxy ↔ api contract faithfully (fake-api.ts), proxies polling it (proxies.ts),
// real upstream HTTP/WebSocket servers (upstreams.ts), a tiny client (client.ts), the real
// main.ts process (main-process.ts) and the real proxy with its certificates on the built-in CA
// (builtin-ca-proxy.ts). Suites import from here.
export * from './proxy-helpers/fake-api.js';
export * from './proxy-helpers/proxies.js';
export * from './proxy-helpers/upstreams.js';
export * from './proxy-helpers/client.js';
export * from './proxy-helpers/main-process.js';
export * from './proxy-helpers/builtin-ca-proxy.js';
