// admin backup, admin restore: one archive of the whole platform, streamed to and from the api.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context, Handler } from '../context.js';
import { CliError } from '../errors.js';

/** The api's base URL and headers of the logged-in client (streams need raw fetch). */
function endpoint(ctx: Context): { url: string; headers: Record<string, string> } {
  const client = ctx.client(); // fails with "log in first" when there is no token
  return { url: client.url, headers: { authorization: `Bearer ${ctx.settings.token}` } };
}

async function failure(res: Response, what: string): Promise<CliError> {
  const text = await res.text();
  let msg = text;
  try { const j = JSON.parse(text) as { code?: string; message?: string }; msg = `${j.message ?? text}${j.code ? ` (${j.code})` : ''}`; } catch { /* not JSON */ }
  return new CliError(`${what} failed: HTTP ${res.status}: ${msg}`, res.status === 403 ? 'This needs a token with scope admin.' : undefined);
}

async function call(url: string, init: RequestInit & { duplex?: 'half' }): Promise<Response> {
  try { return await fetch(url, init); } catch (e) { throw new CliError(`Cannot reach the api at ${url}: ${(e as Error).message}`, 'Check --url / `dream login`.'); }
}

const backup: Handler = async (ctx) => {
  const { url, headers } = endpoint(ctx);
  const withoutKey = ctx.flags['without-key'] === true;
  const res = await call(`${url}/v1/admin/backup${withoutKey ? '?withoutKey=true' : ''}`, { headers });
  if (!res.ok || !res.body) throw await failure(res, 'Backup');
  const out = ctx.flags.out ?? `dreamnet-backup-${ctx.io.now().toISOString().replace(/[:.]/g, '-')}.tar.gz`;
  const tmp = `${out}.partial`;
  await pipeline(Readable.fromWeb(res.body as never), fs.createWriteStream(tmp, { mode: 0o600 }));
  fs.renameSync(tmp, out);
  const size = fs.statSync(out).size;
  const info = { file: out, bytes: size, schema: Number(res.headers.get('x-dream-backup-schema')), files: Number(res.headers.get('x-dream-backup-files')), includesEncryptionKey: !withoutKey };
  if (ctx.json(info)) return;
  ctx.say(`Wrote ${out} (${(size / 1024).toFixed(0)} KiB, ${info.files} files, schema v${info.schema}). It holds secrets: keep it as safe as the server.`);
  const warning = res.headers.get('x-dream-backup-warning');
  if (warning) ctx.io.stderr(`warning: ${warning}\n`);
  ctx.say(`Restore it on a fresh install with: dream admin restore ${out}`);
};

const restore: Handler = async (ctx) => {
  const [file] = ctx.args as [string];
  if (!fs.existsSync(file)) throw new CliError(`No such file: ${file}`, undefined, 2);
  const { url, headers } = endpoint(ctx);
  const h: Record<string, string> = { ...headers, 'content-type': 'application/gzip', 'content-length': String(fs.statSync(file).size) };
  if (ctx.flags['key-file']) h['x-dream-encryption-key'] = fs.readFileSync(ctx.flags['key-file'], 'utf8').trim();
  const body = Readable.toWeb(fs.createReadStream(file)) as unknown as ReadableStream;
  const res = await call(`${url}/v1/admin/restore${ctx.flags.replace ? '?force=true' : ''}`, { method: 'POST', headers: h, body, duplex: 'half' });
  if (!res.ok) throw await failure(res, 'Restore');
  const r = await res.json() as { apps: string[]; rebuilding?: string[]; cannotRebuild?: string[]; schemaFrom: number; schemaTo: number; platformVersion: string; createdAt: string };
  if (ctx.json(r)) return;
  ctx.say(`Restored the backup of ${r.createdAt} (platform ${r.platformVersion}, schema v${r.schemaFrom}${r.schemaTo !== r.schemaFrom ? ` → migrated to v${r.schemaTo}` : ''}).`);
  ctx.say(`Apps: ${r.apps.length ? r.apps.join(', ') : '(none)'} — they start again now.`);
  if (r.rebuilding?.length) ctx.say(`Rebuilding from their git repositories (images were not on this engine): ${r.rebuilding.join(', ')}. Follow with \`dream deployments APP\`.`);
  if (r.cannotRebuild?.length) ctx.say(`No commit recorded to rebuild ${r.cannotRebuild.join(', ')}: push them again.`);
  ctx.say('The tokens of the backed-up install are the ones that work now: log in again with its admin token (data/admin-token was restored).');
};

export const adminCommands: Record<string, Handler> = { 'admin backup': backup, 'admin restore': restore };
