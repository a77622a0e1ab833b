export { startProxy, type StartProxyOptions, type ProxyHandle } from './server.js';
export { RouteTable, parseSnapshot, endpointKey, removedEndpoints, type Route, type RouteEndpoint, type RouteSnapshot } from './table.js';
export { normalizeHost } from './host.js';
export { RoutesSource, newProxyId } from './routes/source.js';
export { EndpointState } from './endpoints.js';
export { cacheFile, loadCachedRoutes, readCachedRoutes, saveCachedRoutes } from './cache.js';
export { HEALTH_PATH } from './forward.js';
export { type AccessEntry, type AccessLog, stdoutAccessLog } from './access-log.js';
export { trustedProxies, type TrustCheck } from './trust.js';
