// apps, apps create, apps info, apps set, apps delete, url, open.
import type { App } from '../api-types.js';
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';
import { ago, keyValues, table } from '../format.js';
import { openUrl } from '../open.js';
import { parseSettings, settingRows } from './app-settings.js';

function statusText(a: App): string {
  if (!a.currentRelease) return 'not deployed';
  if (!a.status) return 'unknown';
  if (a.status.crashLooping) return 'crash looping';
  return a.status.healthy ? 'healthy' : 'unhealthy';
}

/** `git push dream main`, or `git push dream HEAD:<branch>` when another branch deploys. */
export function pushCommand(branch: string): string {
  return branch === 'main' ? 'git push dream main' : `git push dream HEAD:${branch}`;
}

const list: Handler = async (ctx) => {
  const { items } = await ctx.client().listApps();
  if (ctx.json({ items })) return;
  if (items.length === 0) {
    ctx.say('No apps yet.');
    ctx.say('Next: create one with `dream apps create NAME`.');
    return;
  }
  const now = ctx.io.now();
  ctx.say(table(
    ['NAME', 'RELEASE', 'STATUS', 'REPLICAS', 'DEPLOYED', 'URL'],
    items.map((a) => [
      a.name,
      a.currentRelease ? `v${a.currentRelease.version}` : '-',
      statusText(a),
      `${a.status ? a.status.replicas : '?'}/${a.replicas}`,
      ago(a.currentRelease?.createdAt, now),
      a.url,
    ]),
  ));
  ctx.say();
  ctx.say('Next: `dream apps info NAME` for details, `dream apps create NAME` for a new app.');
};

const create: Handler = async (ctx) => {
  const [name] = ctx.args as [string];
  const app = await ctx.client().createApp(name, ctx.flags.branch);
  if (ctx.json(app)) return;
  ctx.say(`Created app ${app.name}. Pushes to branch ${app.deployBranch} deploy it.`);
  ctx.say(`  URL: ${app.url}`);
  ctx.say(`  Git: ${app.gitUrl}`);
  ctx.say();
  ctx.say('Next, from your project directory:');
  ctx.say(`  git remote add dream ${app.gitUrl}`);
  ctx.say(`  ${pushCommand(app.deployBranch)}`);
};

const info: Handler = async (ctx) => {
  const [name] = ctx.args as [string];
  const a = await ctx.client().getApp(name);
  if (ctx.json(a)) return;
  const now = ctx.io.now();
  const r = a.currentRelease;
  ctx.say(keyValues([
    ['Name', a.name],
    ['URL', a.url],
    ['Git remote', a.gitUrl],
    ...settingRows(a),
    ['Status', statusText(a)],
    ['Replicas', a.status ? `${a.status.replicas} running of ${a.replicas} wanted` : `${a.replicas} wanted`],
    ['Release', r ? `v${r.version} (${ago(r.createdAt, now)}) ${r.description}` : 'none yet'],
    ['Image', r ? r.image : '-'],
    ['Created', ago(a.createdAt, now)],
  ]));
  ctx.say();
  if (!r) ctx.say(`Next: deploy with \`git remote add dream ${a.gitUrl}\` and \`${pushCommand(a.deployBranch)}\`.`);
  else if (a.status && (a.status.crashLooping || !a.status.healthy)) ctx.say(`Next: see what happened with \`dream deployments ${a.name}\`.`);
  else ctx.say(`Next: open it with \`dream open ${a.name}\`, or see \`dream releases ${a.name}\`.`);
};

const set: Handler = async (ctx) => {
  const [name, ...pairs] = ctx.args as [string, ...string[]];
  const { keys, change } = parseSettings(pairs);
  const a = await ctx.client().updateApp(name, change);
  if (ctx.json(a)) return;
  ctx.say(`Changed ${keys.length === 1 ? 'a setting' : 'settings'} of ${a.name}:`);
  ctx.say(keyValues(settingRows(a, keys)).replace(/^/gm, '  '));
  // Each setting takes effect at a different moment; say when, so nobody waits for a redeploy.
  if (keys.includes('max-request-body') || keys.includes('request-buffering')) ctx.say('The proxies apply this to new requests within seconds; no redeploy needed.');
  if (keys.includes('health-check-path')) ctx.say(`The health check applies from the next deploy (\`${pushCommand(a.deployBranch)}\`).`);
  if (keys.includes('deploy-branch')) ctx.say(`Pushes to branch ${a.deployBranch} deploy it now: \`${pushCommand(a.deployBranch)}\`.`);
  ctx.say(`Next: see every setting with \`dream apps info ${a.name}\`.`);
};

const remove: Handler = async (ctx) => {
  const [name] = ctx.args as [string];
  if (ctx.flags.confirm !== name) {
    throw new CliError(
      ctx.flags.confirm === undefined
        ? `Refusing to delete ${name} without confirmation: this stops its containers and removes its releases and config.`
        : `--confirm ${ctx.flags.confirm} does not match the app name ${name}; nothing was deleted.`,
      `Re-run as \`dream apps delete ${name} --confirm ${name}\`.`,
      2,
    );
  }
  await ctx.client().deleteApp(name);
  if (ctx.json({ deleted: name })) return;
  ctx.say(`Deleted app ${name}.`);
  ctx.say('Next: list what is left with `dream apps`.');
};

const url: Handler = async (ctx) => {
  const a = await ctx.client().getApp(ctx.args[0]!);
  if (ctx.json({ url: a.url })) return;
  // Only the URL, so `curl $(dream url APP)` works.
  ctx.io.stdout(`${a.url}\n`);
};

const open: Handler = async (ctx) => {
  const a = await ctx.client().getApp(ctx.args[0]!);
  if (ctx.json({ url: a.url })) return;
  ctx.say(a.url);
  const opened = await openUrl(a.url, ctx.io.env);
  if (!opened) ctx.say('(No xdg-open found; open the URL above in your browser.)');
};

export const appsCommands: Record<string, Handler> = {
  apps: list, 'apps list': list, 'apps create': create, 'apps info': info, 'apps set': set, 'apps delete': remove, url, open,
};
