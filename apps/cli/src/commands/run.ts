// `dream run APP [--detach] -- CMD…`: a one-off container of the app's current release with its
// config. Attached (default): like `dream shell`, and our exit code is the command's. Detached: the
// api starts it and answers with an id; its output is followed with `dream logs APP -f --replica ID`.
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';
import { terminalSession } from './terminal.js';

const run: Handler = async (ctx) => {
  const [app, ...cmd] = ctx.args as [string, ...string[]];
  const seg = encodeURIComponent(app);
  const hint = `Check that ${app} has a release with \`dream releases ${app}\` (push first: \`git push dream main\`).`;
  if (ctx.flags.detach) {
    const res = await ctx.client().request<{ id: string; logs: string }>('POST', `/v1/apps/${seg}/runs`, { cmd }, app);
    if (ctx.json(res)) return;
    ctx.say(`Started ${res.id}: ${cmd.join(' ')}`);
    ctx.say(`Next: follow its output with \`dream logs ${app} -f --replica ${res.id}\`.`);
    return;
  }
  const query = new URLSearchParams();
  for (const a of cmd) query.append('cmd', a);
  return terminalSession(ctx, {
    app,
    path: `/v1/apps/${seg}/run`,
    query,
    hint,
    lost: new CliError(`The connection to the api closed before \`${cmd.join(' ')}\` ended; its container is removed.`, `Run it detached so it survives a dropped connection: \`dream run ${app} --detach -- ${cmd.join(' ')}\`.`),
  });
};

export const runCommands: Record<string, Handler> = { run };
