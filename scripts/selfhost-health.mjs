// The image's HEALTHCHECK: finds which role PID 1 runs (api, builder or proxy) and asks that role's
// own health endpoint on loopback. Exit 0 = healthy. Plain JS so it starts fast.
import fs from 'node:fs';

const cmd = fs.readFileSync('/proc/1/cmdline', 'utf8').split('\0').join(' ');
const env = process.env;
const url = /apps\/proxy\//.test(cmd) ? `http://127.0.0.1:${env.DREAM_HTTP_PORT || 8080}/__dream/healthz`
  : /apps\/builder\//.test(cmd) ? `http://127.0.0.1:${env.DREAM_BUILDER_PORT || 7071}/healthz`
  : `http://127.0.0.1:${env.DREAM_API_PORT || 7070}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
