// releases, deployments, deployments info.
import { versionText } from '../api-types.js';
import type { Handler } from '../context.js';
import { ago, keyValues, sanitize, stamp, table } from '../format.js';

const releases: Handler = async (ctx) => {
  const app = ctx.args[0]!;
  const { items } = await ctx.client().listReleases(app);
  if (ctx.json({ items })) return;
  if (items.length === 0) {
    ctx.say(`${app} has no releases yet.`);
    ctx.say('Next: deploy with `git push dream main`.');
    return;
  }
  const now = ctx.io.now();
  ctx.say(table(
    ['VERSION', 'CREATED', 'DESCRIPTION', 'CONFIG', 'IMAGE'],
    items.map((r) => [`v${r.version}`, ago(r.createdAt, now), r.description, String(r.configKeys.length), r.image]),
  ));
  ctx.say();
  ctx.say(`Next: go back to one with \`dream rollback ${app} VERSION\`.`);
};

const deployments: Handler = async (ctx) => {
  const app = ctx.args[0]!;
  const { items } = await ctx.client().listDeployments(app);
  if (ctx.json({ items })) return;
  if (items.length === 0) {
    ctx.say(`${app} has no deployments yet.`);
    ctx.say('Next: deploy with `git push dream main`.');
    return;
  }
  const now = ctx.io.now();
  ctx.say(table(
    ['ID', 'VERSION', 'STATE', 'CREATED', 'REASON'],
    items.map((d) => [d.id, versionText(d.version), d.state, ago(d.createdAt, now), d.reason ?? '']),
  ));
  ctx.say();
  ctx.say(`Next: see events and the build log with \`dream deployments info ${app} ID\`.`);
};

const deploymentInfo: Handler = async (ctx) => {
  const [app, id] = ctx.args as [string, string];
  const d = await ctx.client().getDeployment(app, id);
  if (ctx.json(d)) return;
  const now = ctx.io.now();
  ctx.say(keyValues([
    ['Deployment', d.id],
    ['App', d.app],
    ['Release', d.releaseId ? `${versionText(d.version)} (${d.releaseId})` : 'none (no image was built)'],
    ['State', d.reason ? `${d.state} (${d.reason})` : d.state],
    ['Created', ago(d.createdAt, now)],
    ['Updated', ago(d.updatedAt, now)],
  ]));
  ctx.say();
  ctx.say('Events:');
  const events = d.events ?? [];
  ctx.say(events.length
    ? table(['AT', 'STATE', 'REASON'], events.map((e) => [stamp(e.at), e.state, e.reason ?? '']))
    : '  (none)');
  if (d.buildLog !== undefined) {
    ctx.say();
    ctx.say('Build log:');
    ctx.say(sanitize(d.buildLog).trimEnd() || '  (empty)');
  }
  ctx.say();
  if (d.state === 'failed' || d.state === 'rolled_back') ctx.say(`Next: fix the cause above and push again, or \`dream rollback ${app} VERSION\`.`);
  else ctx.say(`Next: \`dream apps info ${app}\` shows what is running now.`);
};

export const releaseCommands: Record<string, Handler> = {
  releases, deployments, 'deployments list': deployments, 'deployments info': deploymentInfo,
};
