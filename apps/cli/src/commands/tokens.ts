// tokens, tokens create, tokens revoke: scoped API tokens (docs/scopes.md). The secret is printed
// once, at creation; the api keeps only its hash.
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';
import { ago, keyValues, table } from '../format.js';

interface Token { id: string; name: string; scope: string; apps: string[] | null; createdAt: string; lastUsedAt: string | null }
const SCOPES = ['read', 'deploy', 'admin'];

async function allTokens(ctx: Parameters<Handler>[0]): Promise<Token[]> {
  const out: Token[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Token[]; nextCursor: string | null } = await ctx.client().request('GET', `/v1/tokens?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const list: Handler = async (ctx) => {
  const items = await allTokens(ctx);
  if (ctx.json({ items })) return;
  const now = ctx.io.now();
  ctx.say(table(['ID', 'NAME', 'SCOPE', 'APPS', 'CREATED', 'LAST USED'], items.map((t) => [t.id, t.name, t.scope, t.apps ? t.apps.join(',') : 'all', ago(t.createdAt, now), t.lastUsedAt ? ago(t.lastUsedAt, now) : 'never'])));
  ctx.say();
  ctx.say('Next: `dream tokens create NAME --scope read|deploy|admin [--apps a,b]`, or `dream tokens revoke ID`.');
};

const create: Handler = async (ctx) => {
  const [name] = ctx.args as [string];
  const scope = ctx.flags.scope ?? 'deploy';
  if (!SCOPES.includes(scope)) throw new CliError(`--scope must be one of ${SCOPES.join(', ')} (got "${scope}").`);
  const apps = ctx.flags.apps ? ctx.flags.apps.split(',').map((a) => a.trim()).filter(Boolean) : undefined;
  const t = await ctx.client().request<Token & { token: string }>('POST', '/v1/tokens', { name, scope, ...(apps ? { apps } : {}) });
  if (ctx.json(t)) return;
  ctx.say(keyValues([['Token', t.token], ['Id', t.id], ['Name', t.name], ['Scope', t.scope], ['Apps', t.apps ? t.apps.join(', ') : 'all']]));
  ctx.say();
  ctx.say('Copy the token now: it is not shown again (only its hash is stored).');
};

const revoke: Handler = async (ctx) => {
  const [id] = ctx.args as [string];
  await ctx.client().request<void>('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  if (ctx.json({ revoked: id })) return;
  ctx.say(`Revoked ${id}. Requests with it now get 401.`);
};

export const tokenCommands: Record<string, Handler> = { tokens: list, 'tokens list': list, 'tokens create': create, 'tokens revoke': revoke };
