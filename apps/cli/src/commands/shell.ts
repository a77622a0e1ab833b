// `dream shell APP [--replica N]`: an interactive terminal in a running replica (the api runs the
// engine's exec in a pseudo-terminal; see terminal.ts). Exits with the shell's exit code.
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';
import { terminalSession } from './terminal.js';

const shell: Handler = async (ctx) => {
  const app = ctx.args[0]!;
  const query = new URLSearchParams();
  const replica = ctx.flags.replica;
  if (replica !== undefined) {
    if (!/^\d{1,3}$/.test(replica) || Number(replica) < 1) throw new CliError(`--replica is a replica number from 1 (got "${replica}").`, `See the replicas with \`dream apps info ${app}\`.`, 2);
    query.set('replica', replica);
  }
  return terminalSession(ctx, {
    app,
    path: `/v1/apps/${encodeURIComponent(app)}/shell`,
    query,
    hint: `Check that ${app} runs with \`dream apps info ${app}\` (a shell needs a running replica).`,
    lost: new CliError('The connection to the api closed before the shell ended.', `Open a new one with \`dream shell ${app}\`.`),
  });
};

export const shellCommands: Record<string, Handler> = { shell };
