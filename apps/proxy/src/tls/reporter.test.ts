// A status report the api refuses is said in the log (before, nothing was: dream domains silently
// went on showing what was reported before).
import http from 'node:http';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { StatusReporter } from './reporter.js';

it('a refused report is logged with the api\'s answer', async () => {
  const api = http.createServer((req, res) => { req.resume(); res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"VALIDATION","message":"body/certs/0/error must NOT have more than 4000 characters"}'); });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  let out = '';
  const r = new StatusReporter({ apiUrl: `http://127.0.0.1:${(api.address() as { port: number }).port}`, token: 't', proxyId: 'p', status: () => [], log: pino({ level: 'info' }, { write: (s: string) => { out += s; } }), everyMs: 3_600_000 });
  await r.send();
  r.close();
  await new Promise((res) => api.close(res));
  expect(out).toMatch(/"status":400.*must NOT have more than 4000 characters.*certificate status refused by the api/);
});
