// login / logout / whoami: the only commands that touch the saved credentials file.
import { DreamClient } from '../client.js';
import { removeCredentials, writeCredentials } from '../config-file.js';
import type { Context, Handler } from '../context.js';
import { ApiError, CliError } from '../errors.js';
import { readHidden, readAll } from '../prompt.js';

async function tokenFor(ctx: Context): Promise<string> {
  if (ctx.flags.token) return ctx.flags.token;
  if (ctx.io.env.DREAM_TOKEN) return ctx.io.env.DREAM_TOKEN;
  const { stdin } = ctx.io;
  const raw = stdin.isTTY ? await readHidden(stdin, ctx.io.stderr, 'API token (input hidden): ') : await readAll(stdin);
  const token = raw.trim();
  if (!token) {
    throw new CliError('No token given.', 'Pass it with `dream login --token <token>` or pipe it: `dream login < token-file`.', 2);
  }
  return token;
}

const login: Handler = async (ctx) => {
  const { url, urlSource } = ctx.settings;
  const token = await tokenFor(ctx);
  const client = new DreamClient({ url, token, urlSource, command: 'login' });
  let me;
  try {
    me = await client.whoami();
  } catch (e) {
    if (e instanceof ApiError && e.code === 'UNAUTHENTICATED') {
      throw new CliError(`The api at ${url} rejected that token; nothing was saved.`, 'Check the token (copy it again without spaces) and re-run `dream login`.');
    }
    throw e;
  }
  await writeCredentials(ctx.configFile, { url, token });
  if (ctx.json({ url, name: me.name, scope: me.scope, configFile: ctx.configFile })) return;
  ctx.say(`Logged in to ${url} as ${me.name} (scope: ${me.scope}).`);
  ctx.say(`Saved the token to ${ctx.configFile} (readable only by you).`);
  ctx.say();
  ctx.say('Next: create an app with `dream apps create NAME`.');
};

const logout: Handler = async (ctx) => {
  const removed = await removeCredentials(ctx.configFile);
  if (ctx.json({ loggedOut: removed, configFile: ctx.configFile })) return;
  ctx.say(removed ? `Logged out: removed ${ctx.configFile}.` : `You were not logged in (no ${ctx.configFile}).`);
  if (ctx.io.env.DREAM_TOKEN) ctx.say('Note: DREAM_TOKEN is still set in your environment and will keep being used.');
  ctx.say('Log in again with `dream login`.');
};

const whoami: Handler = async (ctx) => {
  const me = await ctx.client().whoami();
  if (ctx.json(me)) return;
  ctx.say(`${me.name} (scope: ${me.scope}) at ${ctx.settings.url}`);
  ctx.say('Next: list your apps with `dream apps`.');
};

export const authCommands: Record<string, Handler> = { login, logout, whoami };
