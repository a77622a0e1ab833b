// One way to tell the user how a deployment ended, shared by config, rollback, scale and restart.
import { versionText, type Deployment } from '../api-types.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';

const FAILED = new Set(['failed', 'rolled_back']);
const DONE = new Set(['healthy', 'superseded', ...FAILED]);

/** Prints the deployment outcome; throws (exit 1) when it failed. */
export function reportDeployment(ctx: Context, app: string, d: Deployment | undefined): void {
  if (!d) return;
  const reason = d.reason ? ` (${d.reason})` : '';
  if (FAILED.has(d.state)) {
    throw new CliError(
      `Deployment ${d.id} of ${versionText(d.version)} ended ${d.state}${reason}. The previous release keeps serving.`,
      `See its events and build log with \`dream deployments info ${app} ${d.id}\`.`,
    );
  }
  ctx.say(`Deployment ${d.id}: ${versionText(d.version)} is ${d.state}${reason}.`);
  if (!DONE.has(d.state)) ctx.say(`It is still running; follow it with \`dream deployments info ${app} ${d.id}\`.`);
}
