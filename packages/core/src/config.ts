// Configuration is parsed and validated once per process, from DREAM_* variables, with defaults
// that work on a laptop. Nothing else in the platform reads process.env.
import net from 'node:net';
import path from 'node:path';
import { parseAddressList, parseCidrList } from './addresses.js';

type Kind = 'string' | 'port' | 'int' | 'number' | 'url' | 'enum' | 'path' | 'bool' | 'addresses' | 'cidrs' | 'host';
interface Setting { env: string; kind: Kind; default: string; doc: string; values?: string[]; min?: number }

export const SETTINGS = {
  dataDir: { env: 'DREAM_DATA_DIR', kind: 'path', default: './data', doc: 'Where the database, keys, git repositories and caches live.' },
  apiHost: { env: 'DREAM_API_HOST', kind: 'host', default: '127.0.0.1', doc: 'Address the api (REST + git) listens on.' },
  apiPort: { env: 'DREAM_API_PORT', kind: 'port', default: '7070', doc: 'Port of the api (REST + git).' },
  apiUrl: { env: 'DREAM_API_URL', kind: 'url', default: '', doc: 'How the proxy and the git hooks reach the api (default http://127.0.0.1:<api port>).' },
  publicApiUrl: { env: 'DREAM_PUBLIC_API_URL', kind: 'url', default: '', doc: 'The api URL users are shown (git remotes, webhook endpoints, login hints); default DREAM_API_URL.' },
  builderHost: { env: 'DREAM_BUILDER_HOST', kind: 'host', default: '127.0.0.1', doc: 'Address the builder listens on.' },
  builderPort: { env: 'DREAM_BUILDER_PORT', kind: 'port', default: '7071', doc: 'Port of the builder.' },
  builderUrl: { env: 'DREAM_BUILDER_URL', kind: 'url', default: '', doc: 'How the api reaches the builder (default http://127.0.0.1:<builder port>).' },
  httpHost: { env: 'DREAM_HTTP_HOST', kind: 'host', default: '0.0.0.0', doc: 'Address the proxy listens on for HTTP.' },
  httpPort: { env: 'DREAM_HTTP_PORT', kind: 'port', default: '80', doc: 'Port the proxy serves apps on.' },
  domain: { env: 'DREAM_DOMAIN', kind: 'string', default: '', doc: 'Extra base domain: apps are also served at <app>.<domain>.' },
  publicUrl: { env: 'DREAM_PUBLIC_URL', kind: 'url', default: '', doc: 'Base URL printed for apps (default http://<app>.dream[:<http port>]).' },
  internalToken: { env: 'DREAM_INTERNAL_TOKEN', kind: 'string', default: '', doc: 'Token the proxy and builder use to talk to the api (default: generated into the data dir).' },
  target: { env: 'DREAM_TARGET', kind: 'enum', values: ['docker-host', 'fake'], default: 'docker-host', doc: 'Where apps run.' },
  dockerSocket: { env: 'DREAM_DOCKER_SOCKET', kind: 'path', default: '/var/run/docker.sock', doc: 'Docker engine socket.' },
  dockerNetwork: { env: 'DREAM_DOCKER_NETWORK', kind: 'string', default: 'dream', doc: 'Docker network app containers join.' },
  baseImageNode: { env: 'DREAM_BASE_IMAGE_NODE', kind: 'string', default: 'node:20-bookworm-slim', doc: 'Base image for Node and static-site builds.' },
  baseImagePython: { env: 'DREAM_BASE_IMAGE_PYTHON', kind: 'string', default: 'python:3.12-slim-bookworm', doc: 'Base image for Python builds.' },
  baseImageGo: { env: 'DREAM_BASE_IMAGE_GO', kind: 'string', default: 'golang:1.22-bookworm', doc: 'Build image for Go builds.' },
  baseImageGoRuntime: { env: 'DREAM_BASE_IMAGE_GO_RUNTIME', kind: 'string', default: 'debian:bookworm-slim', doc: 'Runtime image for Go builds.' },
  buildMemoryMb: { env: 'DREAM_BUILD_MEMORY_MB', kind: 'int', min: 64, default: '2048', doc: 'Memory limit of one build.' },
  buildCpus: { env: 'DREAM_BUILD_CPUS', kind: 'number', min: 0.1, default: '1', doc: 'CPU limit of one build (cores).' },
  keepImages: { env: 'DREAM_KEEP_IMAGES', kind: 'int', min: 1, default: '5', doc: 'Release images kept per app for rollback.' },
  appMemoryMb: { env: 'DREAM_APP_MEMORY_MB', kind: 'int', min: 16, default: '512', doc: 'Default memory limit of one replica.' },
  appCpus: { env: 'DREAM_APP_CPUS', kind: 'number', min: 0.05, default: '1', doc: 'Default CPU limit of one replica (cores).' },
  healthTimeoutMs: { env: 'DREAM_HEALTH_TIMEOUT_MS', kind: 'int', min: 100, default: '60000', doc: 'How long a new release may take to become healthy.' },
  drainTimeoutMs: { env: 'DREAM_DRAIN_TIMEOUT_MS', kind: 'int', min: 0, default: '10000', doc: 'How long in-flight requests to old replicas may take before they stop.' },
  maxBodyBytes: { env: 'DREAM_MAX_BODY_BYTES', kind: 'int', min: 1024, default: '1048576', doc: 'Largest JSON body the api accepts.' },
  maxPushBytes: { env: 'DREAM_MAX_PUSH_BYTES', kind: 'int', min: 1024, default: '524288000', doc: 'Largest git push the api accepts.' },
  logLevel: { env: 'DREAM_LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', doc: 'Log level.' },
  reconcileIntervalMs: { env: 'DREAM_RECONCILE_INTERVAL_MS', kind: 'int', min: 500, default: '15000', doc: 'How often the reconciler re-checks every app.' },
  maxUploadBytes: { env: 'DREAM_MAX_UPLOAD_BYTES', kind: 'int', min: 1024, default: '524288000', doc: 'Largest uploaded source archive (compressed and uncompressed, and any one claimed size).' },
  maxUploadFiles: { env: 'DREAM_MAX_UPLOAD_FILES', kind: 'int', min: 1, default: '20000', doc: 'Most entries an uploaded source archive may have.' },
  trustedProxies: { env: 'DREAM_TRUSTED_PROXIES', kind: 'cidrs', default: '', doc: 'Comma-separated addresses/CIDRs of proxies whose X-Forwarded-For is believed (default: none; the socket address counts).' },
  authFailuresPerMinute: { env: 'DREAM_AUTH_FAILURES_PER_MINUTE', kind: 'int', min: 1, default: '20', doc: 'Invalid tokens one client may send per minute before getting 429; a client is an IPv4 address or an IPv6 /64 (::ffff:a.b.c.d counts as a.b.c.d).' },
  webhookGitSchemes: { env: 'DREAM_WEBHOOK_GIT_SCHEMES', kind: 'string', default: 'https', doc: 'URL schemes a git webhook may fetch from (comma-separated; e.g. https,ssh; file only for tests).' },
  version: { env: 'DREAM_VERSION', kind: 'string', default: '', doc: 'Version string of this platform build (the image sets it); recorded in backups.' },
  logMaxBytes: { env: 'DREAM_LOG_MAX_BYTES', kind: 'int', min: 65536, default: '67108864', doc: 'Stored log history per app (bytes, on disk); the oldest segments go first.' },
  logMaxAgeHours: { env: 'DREAM_LOG_MAX_AGE_HOURS', kind: 'number', min: 0.001, default: '168', doc: 'Stored log history per app (hours).' },
  logPollMs: { env: 'DREAM_LOG_POLL_MS', kind: 'int', min: 100, default: '1000', doc: 'How often the log collector looks for new or restarted replicas.' },
  wsQueueBytes: { env: 'DREAM_WS_QUEUE_BYTES', kind: 'int', min: 16384, default: '1048576', doc: 'Bytes queued for one log client before it is told it lagged and closed.' },
  wsPingMs: { env: 'DREAM_WS_PING_MS', kind: 'int', min: 100, default: '30000', doc: 'WebSocket ping interval; a client missing a pong is disconnected.' },
  wsIdleMs: { env: 'DREAM_WS_IDLE_MS', kind: 'int', min: 1000, default: '3600000', doc: 'A log socket with no traffic for this long is closed.' },
  wsTicketTtlMs: { env: 'DREAM_WS_TICKET_TTL_MS', kind: 'int', min: 1000, default: '30000', doc: 'Lifetime of a single-use WebSocket ticket for browsers.' },
  shellIdleMs: { env: 'DREAM_SHELL_IDLE_MS', kind: 'int', min: 1000, default: '900000', doc: 'A shell or attached run with no input or output for this long is closed.' },
  httpsPort: { env: 'DREAM_HTTPS_PORT', kind: 'port', default: '443', doc: 'Port the proxy serves apps on over HTTPS (0 = no HTTPS listener).' },
  acmeDirectory: { env: 'DREAM_ACME_DIRECTORY', kind: 'url', default: 'https://acme-v02.api.letsencrypt.org/directory', doc: 'ACME directory for custom (public) domains; Let\'s Encrypt staging is https://acme-staging-v02.api.letsencrypt.org/directory.' },
  acmeEmail: { env: 'DREAM_ACME_EMAIL', kind: 'string', default: '', doc: 'Contact e-mail registered with the ACME account (optional).' },
  acmeEabKid: { env: 'DREAM_ACME_EAB_KID', kind: 'string', default: '', doc: 'External account binding key id, for CAs that require one.' },
  acmeEabHmac: { env: 'DREAM_ACME_EAB_HMAC', kind: 'string', default: '', doc: 'External account binding HMAC key (base64url), with DREAM_ACME_EAB_KID.' },
  acmeCaBundle: { env: 'DREAM_ACME_CA_BUNDLE', kind: 'string', default: '', doc: 'Extra PEM file of CA certificates trusted for the ACME directory\'s own HTTPS (e.g. a test CA).' },
  dreamAcmeDirectory: { env: 'DREAM_DREAM_ACME_DIRECTORY', kind: 'url', default: '', doc: 'ACME directory for .dream names; empty = the platform\'s own CA issues them (see dream trust).' },
  dnsHost: { env: 'DREAM_DNS_HOST', kind: 'host', default: '127.0.0.1', doc: 'Address the authoritative .dream DNS server listens on.' },
  dnsPort: { env: 'DREAM_DNS_PORT', kind: 'port', default: '0', doc: 'UDP/TCP port of the authoritative .dream DNS server (0 = off; 53 to answer resolvers directly).' },
  edgeAddress: { env: 'DREAM_EDGE_ADDRESS', kind: 'addresses', default: '127.0.0.1', doc: 'Addresses .dream names resolve to (comma-separated IPv4/IPv6; A and AAAA records).' },
  accessLog: { env: 'DREAM_ACCESS_LOG', kind: 'enum', values: ['on', 'off'], default: 'on', doc: 'Proxy access log on stdout: one line per request (method, host, path, status, bytes, duration, upstream, request id, client address).' },
  proxyRequestBuffering: { env: 'DREAM_PROXY_REQUEST_BUFFERING', kind: 'enum', values: ['on', 'off'], default: 'on', doc: 'Read each request body whole before the app is asked, as nginx and kamal-proxy do: a slow uploader holds a proxy buffer, not one of the app\'s workers, and the app gets Content-Length even for a chunked upload (off = uploads stream to the app as they come).' },
  proxyRequestBufferMemory: { env: 'DREAM_PROXY_REQUEST_BUFFER_MEMORY', kind: 'int', min: 0, default: '65536', doc: 'Bytes of one request body held in memory while buffering; the rest goes to a temporary file under the data dir (deleted on open: nothing is left behind).' },
  proxyMaxRequestBody: { env: 'DREAM_PROXY_MAX_REQUEST_BODY', kind: 'int', min: 0, default: '0', doc: 'Largest request body the proxy passes to an app, in bytes (nginx\'s client_max_body_size; 0 = no limit): a larger one gets 413 REQUEST_BODY_TOO_LARGE and the app never sees it. A body without a length (chunked, HTTP/2) is counted while it is buffered.' },
  proxyRequestBufferDisk: { env: 'DREAM_PROXY_REQUEST_BUFFER_DISK', kind: 'int', min: 0, default: '1073741824', doc: 'Bytes all request bodies being buffered may take on disk at once; an upload that would go past it streams the rest to the app instead.' },
  proxyWorkers: { env: 'DREAM_PROXY_WORKERS', kind: 'int', min: 0, default: '1', doc: 'Proxy worker processes (1 = a single process, no cluster; 0 = one per CPU core, worth it when the proxy has cores to itself).' },
  proxyWorkerStartTimeoutMs: { env: 'DREAM_PROXY_WORKER_START_TIMEOUT_MS', kind: 'int', min: 1000, default: '60000', doc: 'How long a new proxy worker may take until all its listeners listen: in a SIGHUP reload, one that takes longer is stopped and the old worker keeps serving.' },
  tlsCertFile: { env: 'DREAM_TLS_CERT_FILE', kind: 'string', default: '', doc: 'PEM certificate (chain) the proxy serves over HTTPS for names it has no certificate of its own for, and to clients sending no SNI (optional; with DREAM_TLS_KEY_FILE).' },
  tlsKeyFile: { env: 'DREAM_TLS_KEY_FILE', kind: 'string', default: '', doc: 'PEM private key of DREAM_TLS_CERT_FILE.' },
  httpsRedirect: { env: 'DREAM_HTTPS_REDIRECT', kind: 'enum', values: ['on', 'off'], default: 'on', doc: 'Redirect plain HTTP to HTTPS (308) for hosts that have a certificate.' },
} as const satisfies Record<string, Setting>;

type Key = keyof typeof SETTINGS;
type ValueOf<S extends Setting> = S['kind'] extends 'port' | 'int' | 'number' ? number : S['kind'] extends 'bool' ? boolean : string;
export type Config = { [K in Key]: ValueOf<(typeof SETTINGS)[K]> };

export class ConfigError extends Error {}

function parseOne(key: string, s: Setting, raw: string | undefined): unknown {
  const v = raw === undefined || raw === '' ? s.default : raw.trim();
  const bad = (why: string) => new ConfigError(`${s.env}=${JSON.stringify(raw)} is not valid: ${why}. (${s.doc})`);
  switch (s.kind) {
    case 'port': {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw bad('expected a port number 0-65535');
      return n;
    }
    case 'int': case 'number': {
      const n = Number(v);
      if (!Number.isFinite(n) || (s.kind === 'int' && !Number.isInteger(n))) throw bad(`expected a${s.kind === 'int' ? 'n integer' : ' number'}`);
      if (s.min !== undefined && n < s.min) throw bad(`must be at least ${s.min}`);
      return n;
    }
    case 'enum':
      if (!s.values!.includes(v)) throw bad(`expected one of ${s.values!.join(', ')}`);
      return v;
    case 'url':
      if (v !== '') { try { new URL(v); } catch { throw bad('expected a URL like http://127.0.0.1:7070'); } }
      return v.replace(/\/$/, '');
    case 'path':
      return path.resolve(v);
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(v)) throw bad('expected true or false');
      return v === 'true' || v === '1';
    case 'host': {
      // nginx's and URL spelling of an IPv6 address ([::]): node would look it up as a name (ENOTFOUND).
      const inner = /^\[(.*)\]$/.exec(v)?.[1];
      if (inner === undefined) return v;
      if (!net.isIPv6(inner)) throw bad('brackets may only hold an IPv6 address');
      return inner;
    }
    case 'addresses': case 'cidrs':
      try { (s.kind === 'cidrs' ? parseCidrList : parseAddressList)(v); } catch (e) { throw bad((e as Error).message); }
      return v;
    default:
      void key;
      return v;
  }
}

/**
 * How a process on this machine reaches a listener on `host`, as a URL's host: a wildcard as
 * loopback of its family (:: as [::1], which also works where IPv6 sockets are IPv6-only), an IPv6
 * address in brackets (it was http://:::7070, which no client can parse).
 */
function localUrlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return net.isIPv6(host) ? `[${host}]` : host;
}

/** Parses every DREAM_* setting; throws ConfigError naming the first bad one. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [string, Setting][]) out[key] = parseOne(key, s, env[s.env]);
  const c = out as Config;
  if (!c.apiUrl) c.apiUrl = `http://${localUrlHost(c.apiHost)}:${c.apiPort}`;
  if (!c.publicApiUrl) c.publicApiUrl = c.apiUrl;
  if (!c.builderUrl) c.builderUrl = `http://${localUrlHost(c.builderHost)}:${c.builderPort}`;
  return c;
}

/** The URL users reach an app at. */
export function appUrl(c: Pick<Config, 'publicUrl' | 'httpPort' | 'domain'>, app: string): string {
  if (c.publicUrl) { const u = new URL(c.publicUrl); u.hostname = `${app}.${u.hostname}`; return u.toString().replace(/\/$/, ''); }
  const host = c.domain ? `${app}.${c.domain}` : `${app}.dream`;
  return c.httpPort === 80 ? `http://${host}` : `http://${host}:${c.httpPort}`;
}
