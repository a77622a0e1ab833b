// The api's log service: the store under <dataDir>/logs, the collector following the target, and
// build output from the deployer. Routes get it from logService(services), one per app instance.
import path from 'node:path';
import type { Services } from '../services.js';
import { LogCollector } from './collector.js';
import { LogStore } from './store.js';
import { Tickets } from './tickets.js';

export interface LogService {
  store: LogStore;
  collector: LogCollector;
  tickets: Tickets;
  start(): void;
  stop(): void;
}

const services = new WeakMap<Services, LogService>();

export function logService(s: Services): LogService {
  let l = services.get(s);
  if (l) return l;
  const c = s.config;
  const store = new LogStore(path.join(c.dataDir, 'logs'), {
    maxBytes: c.logMaxBytes,
    maxAgeMs: c.logMaxAgeHours * 3_600_000,
    segmentBytes: Math.max(64 * 1024, Math.floor(c.logMaxBytes / 8)),
  });
  const collector = new LogCollector(s.target, store, s.log, c.logPollMs);
  s.deployer.lineListeners.push((app, deployment, line) => {
    store.add(app, { timestamp: new Date().toISOString(), source: 'build', replica: 0, stream: 'stdout', line, deployment });
  });
  l = {
    store, collector, tickets: new Tickets(c.wsTicketTtlMs),
    start: () => collector.start(),
    stop: () => { collector.stop(); store.close(); },
  };
  services.set(s, l);
  return l;
}
