// config, config set, config unset. Values go to the api and are never printed back.
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';
import { ago, table } from '../format.js';
import { reportDeployment } from './report.js';

/** Pure: ["A=1", "B=x=y"] → { A: "1", B: "x=y" }; a pair without "=" is a usage error. */
export function parsePairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) {
      // Show only the key part: the argument might be a secret typed without its key.
      throw new CliError(`Expected KEY=VALUE, got an argument without "=" or without a key.`, 'Example: `dream config set my-app DATABASE_URL=postgres://…`', 2);
    }
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

const list: Handler = async (ctx) => {
  const app = ctx.args[0]!;
  const { items } = await ctx.client().listConfig(app);
  if (ctx.json({ items })) return;
  if (items.length === 0) {
    ctx.say(`${app} has no config.`);
    ctx.say(`Next: set some with \`dream config set ${app} KEY=VALUE\`.`);
    return;
  }
  const now = ctx.io.now();
  ctx.say(table(['KEY', 'FINGERPRINT', 'UPDATED'], items.map((i) => [i.key, i.fingerprint ?? '(deploy scope)', ago(i.updatedAt, now)])));
  ctx.say();
  ctx.say(`Values are never shown. Change them with \`dream config set ${app} KEY=VALUE\` or \`dream config unset ${app} KEY\`.`);
};

const set: Handler = async (ctx) => {
  const [app, ...pairs] = ctx.args as [string, ...string[]];
  const values = parsePairs(pairs);
  const res = await ctx.client().patchConfig(app, { set: values });
  ctx.json(res); // under --json the lines below are silent, but a failed deployment still exits 1
  ctx.say(`Set ${Object.keys(values).join(', ')} on ${app} (values hidden).`);
  if (res.release) ctx.say(`Made release v${res.release.version}.`);
  reportDeployment(ctx, app, res.deployment);
  if (!res.release) ctx.say(`It takes effect with the next deploy (\`git push dream main\`).`);
  ctx.say(`Next: check with \`dream config ${app}\`.`);
};

const unset: Handler = async (ctx) => {
  const [app, ...keys] = ctx.args as [string, ...string[]];
  const res = await ctx.client().patchConfig(app, { unset: keys });
  ctx.json(res); // under --json the lines below are silent, but a failed deployment still exits 1
  ctx.say(`Unset ${keys.join(', ')} on ${app}.`);
  if (res.release) ctx.say(`Made release v${res.release.version}.`);
  reportDeployment(ctx, app, res.deployment);
  ctx.say(`Next: check with \`dream config ${app}\`.`);
};

export const configCommands: Record<string, Handler> = { config: list, 'config list': list, 'config set': set, 'config unset': unset };
