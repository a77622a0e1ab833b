// domains, domains add/remove: the names an app is served at and how their certificates are doing.
import type { Domain } from '../api-types.js';
import type { Handler } from '../context.js';
import { ago, table } from '../format.js';

/**
 * Pure: one row per name — certificate state, expiry, and why it waits when it does: the CA's reason
 * when failing, or the proxy's own hold (its per-account order throttle) while still pending. A name
 * ordered again after a failure (pending/renewing, no next try) shows that failure as the proxy
 * words it, 'previous attempt failed: …' (apps/proxy/src/tls/entry.ts).
 */
export function domainRows(items: Domain[], now: Date): string[][] {
  return items.map((d) => {
    const c = d.certificate;
    const state = c ? c.state : 'waiting for the proxy';
    const expiry = c?.notAfter ? `expires ${new Date(c.notAfter).toISOString().slice(0, 10)}, reported ${ago(c.reportedAt, now)}` : '';
    const detail = !c ? '' : c.state === 'failing' || (c.error && c.nextAttemptAt)
      ? `${c.error ?? 'unknown error'}${c.nextAttemptAt ? ` (next try ${new Date(c.nextAttemptAt).toISOString()})` : ''}`
      : [expiry, c.error].filter(Boolean).join('; ');
    return [d.host, d.kind, state, c?.issuer ?? '', detail];
  });
}

const list: Handler = async (ctx) => {
  const app = ctx.args[0]!;
  const { items } = await ctx.client().listDomains(app);
  if (ctx.json({ items })) return;
  ctx.say(table(['HOST', 'KIND', 'CERTIFICATE', 'ISSUER', 'DETAIL'], domainRows(items, ctx.io.now())));
  if (!items.some((d) => d.kind === 'custom')) { ctx.say(); ctx.say(`Next: add your own name with \`dream domains add ${app} www.example.com\` (point its DNS at this server first).`); }
};

const add: Handler = async (ctx) => {
  const [app, host] = ctx.args as [string, string];
  const d = await ctx.client().addDomain(app, host, ctx.flags.move === true);
  if (ctx.json(d)) return;
  if (d.movedFrom) ctx.say(`Moved ${d.host} from ${d.movedFrom} to ${app}: requests for it go to ${app} now (its certificate stays).`);
  else ctx.say(`Added ${d.host} to ${app}. Its certificate is ordered automatically (HTTP-01 on port 80: the name must resolve to this server).`);
  ctx.say(`Next: watch it with \`dream domains ${app}\`.`);
};

const remove: Handler = async (ctx) => {
  const [app, host] = ctx.args as [string, string];
  await ctx.client().removeDomain(app, host);
  if (ctx.json({ removed: host })) return;
  ctx.say(`Removed ${host} from ${app}; the proxy stops serving it.`);
};

export const domainsCommands: Record<string, Handler> = { domains: list, 'domains list': list, 'domains add': add, 'domains remove': remove };
