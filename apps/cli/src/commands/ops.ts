// rollback, scale, restart: commands that start a deployment and report how it ended.
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';
import { reportDeployment } from './report.js';

/** Pure: "3" or "v3" → 3. */
export function parseVersion(s: string): number {
  const m = /^v?(\d{1,9})$/i.exec(s);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new CliError(`"${s}" is not a release version.`, 'Use a number from `dream releases APP`, e.g. `3` or `v3`.', 2);
  return n;
}

/** Pure: "1".."20" → number: the api's range (http/schemas.ts Scale). There is no scaling to 0: the hint said "0 stops the app" and the api answered 400. */
export function parseReplicas(s: string): number {
  const n = /^\d{1,3}$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= 20)) throw new CliError(`"${s}" is not a replica count.`, 'Use a whole number from 1 to 20, e.g. `dream scale APP 2`.', 2);
  return n;
}

const rollback: Handler = async (ctx) => {
  const [app, v] = ctx.args as [string, string];
  const version = parseVersion(v);
  ctx.say(`Rolling ${app} back to v${version}…`);
  const res = await ctx.client().rollback(app, version);
  ctx.json(res); // under --json the lines below are silent, but a failed deployment still exits 1
  ctx.say(`Made release v${res.release.version}, a copy of v${version}.`);
  reportDeployment(ctx, app, res.deployment);
  ctx.say(`Next: check it with \`dream apps info ${app}\`.`);
};

const scale: Handler = async (ctx) => {
  const [app, n] = ctx.args as [string, string];
  const replicas = parseReplicas(n);
  const res = await ctx.client().scale(app, replicas);
  ctx.json(res); // under --json the lines below are silent, but a failed deployment still exits 1
  ctx.say(`Scaled ${app} to ${replicas} replica${replicas === 1 ? '' : 's'}.`);
  if (!res.deployment) ctx.say('It has no release yet; that many replicas start with the first deploy.');
  reportDeployment(ctx, app, res.deployment);
  ctx.say(`Next: check it with \`dream apps info ${app}\`.`);
};

const restart: Handler = async (ctx) => {
  const app = ctx.args[0]!;
  const res = await ctx.client().restart(app);
  ctx.json(res); // under --json the lines below are silent, but a failed deployment still exits 1
  ctx.say(`Restarted ${app}.`);
  reportDeployment(ctx, app, res.deployment);
  ctx.say(`Next: check it with \`dream apps info ${app}\`.`);
};

export const opsCommands: Record<string, Handler> = { rollback, scale, restart };
