// Prometheus metrics of one api instance (own registry, so tests can build many apps): deployments
// by result, build and rollout durations (from the recorded state transitions), apps by state
// (computed at scrape time), and HTTP request counts and latency per route.
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import { followTransitions } from '../db/transitions.js';
import type { Store } from '../db/index.js';
import type { TransitionEvent } from '../db/deployments.js';
import type { Reconciler } from '../deploy/reconciler.js';

const DURATION_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200];

export interface ApiMetrics {
  registry: client.Registry;
  httpRequests: client.Counter<'method' | 'route' | 'status'>;
  httpDuration: client.Histogram<'method' | 'route'>;
}

/** Which state an app is in for the `dream_apps` gauge. Pure. */
export function appState(hasRelease: boolean, status: { healthy: number; crashLooping: boolean } | undefined): string {
  if (!hasRelease) return 'not_deployed';
  if (!status) return 'unknown';
  if (status.crashLooping) return 'crash_looping';
  return status.healthy > 0 ? 'healthy' : 'unhealthy';
}

export function createMetrics(app: FastifyInstance, store: Store, reconciler: Pick<Reconciler, 'lastStatus'>): ApiMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'dream_api_' });
  const deployments = new client.Counter({ name: 'dream_deployments_total', help: 'Finished deployments by result (healthy or failed).', labelNames: ['result'], registers: [registry] });
  const build = new client.Histogram({ name: 'dream_build_duration_seconds', help: 'Time from build start to built image (or build failure).', labelNames: ['result'], buckets: DURATION_BUCKETS, registers: [registry] });
  const rollout = new client.Histogram({ name: 'dream_rollout_duration_seconds', help: 'Time from rollout start to healthy (or failed).', labelNames: ['result'], buckets: DURATION_BUCKETS, registers: [registry] });
  new client.Gauge({
    name: 'dream_apps', help: 'Apps by state (not_deployed, healthy, unhealthy, crash_looping, unknown).', labelNames: ['state'], registers: [registry],
    collect() {
      this.reset();
      for (const a of store.apps.list()) this.inc({ state: appState(Boolean(a.current_release_id), reconciler.lastStatus.get(a.name)) });
    },
  });
  const httpRequests = new client.Counter({ name: 'dream_api_http_requests_total', help: 'API requests by method, route pattern and status.', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const httpDuration = new client.Histogram({ name: 'dream_api_http_request_duration_seconds', help: 'API request latency by method and route pattern.', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });

  // Phase start times by deployment id; a phase ends at the next transition.
  const started = new Map<string, { phase: 'building' | 'deploying'; at: number }>();
  followTransitions(app, store, (e: TransitionEvent) => {
    const t = Date.parse(e.at);
    const prev = started.get(e.id);
    if (prev && e.state !== prev.phase) {
      const result = e.state === 'failed' ? 'failed' : 'ok';
      (prev.phase === 'building' ? build : rollout).observe({ result }, Math.max(0, t - prev.at) / 1000);
      started.delete(e.id);
    }
    if (e.state === 'building' || e.state === 'deploying') started.set(e.id, { phase: e.state, at: t });
    if (e.state === 'healthy' || e.state === 'failed') deployments.inc({ result: e.state });
  });
  return { registry, httpRequests, httpDuration };
}
