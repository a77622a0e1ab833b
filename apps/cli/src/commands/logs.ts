// `dream logs APP [-f] [--tail N] [--since 10m] [--build] [--replica N]`: the api's WebSocket log tail.
// The last cursor printed is the resume point: a dropped connection (api restart, network) or a
// "lagged" notice reconnects with since=<cursor>, so no line is lost or printed twice.
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';
import { formatLine, logOptions, logQuery, parseFrame, type LogOptions } from './log-lines.js';
import { openSocket, Unreachable, type ApiSocket } from './socket.js';

/** How long to keep retrying an api that went away before giving up. */
const GIVE_UP_MS = 10 * 60_000;

interface SessionEnd { code: number; resumeFrom?: number }

const logs: Handler = async (ctx) => {
  const app = ctx.args[0]!;
  const o = logOptions(ctx.flags);
  const colour = ctx.io.tty !== undefined && !ctx.flags.json;
  let cursor: number | undefined;
  let connected = false;
  let lostSince: number | undefined;
  const path = `/v1/apps/${encodeURIComponent(app)}/logs`;
  const hint = `List your apps with \`dream apps\`; see \`dream help logs\`.`;

  const print = (text: string) => {
    const f = parseFrame(text);
    if (!f) return undefined;
    if (f.kind === 'lagged') return f.resumeFrom;
    // The server never repeats a cursor; this guard only matters if it ever did.
    if (cursor !== undefined && f.msg.cursor <= cursor) return undefined;
    cursor = f.msg.cursor;
    ctx.io.stdout(`${ctx.flags.json ? JSON.stringify(f.msg) : formatLine(app, f.msg, colour)}\n`);
    return undefined;
  };

  for (let attempt = 0; ; attempt++) {
    let ws: ApiSocket;
    try {
      ws = await openSocket(ctx, app, path, logQuery(o, cursor), hint);
    } catch (e) {
      const retryable = e instanceof Unreachable || (e instanceof CliError && 'status' in e && (e as { status: number }).status >= 500);
      // Before the first success the user learns at once; afterwards the api is probably restarting.
      if (!connected || !retryable) throw e;
      lostSince ??= Date.now();
      if (Date.now() - lostSince > GIVE_UP_MS) {
        throw new CliError(`Lost the api at ${ctx.settings.url} for ${GIVE_UP_MS / 60_000} minutes; giving up.`, resumeHint(app, o, cursor));
      }
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)));
      continue;
    }
    if (lostSince !== undefined) ctx.io.stderr('Reconnected.\n');
    connected = true;
    lostSince = undefined;
    attempt = -1;
    const end = await session(ws, print);
    if (end.resumeFrom !== undefined) {
      // Too slow to keep up: the server says where to go on from; everything up to there was printed.
      cursor = Math.max(cursor ?? 0, end.resumeFrom);
      continue;
    }
    if (end.code === 1000 && !o.follow) return; // the whole history was sent
    if (end.code === 4000) {
      if (!o.follow) return;
      continue; // idle timeout on a quiet app: just keep following
    }
    ctx.io.stderr(`Connection to the api lost (code ${end.code}); reconnecting from cursor ${cursor ?? 'start'}…\n`);
    lostSince = Date.now();
  }
};

/** Feeds every text frame to `onText` until the socket closes; a lag notice is remembered. */
async function session(s: ApiSocket, onText: (text: string) => number | undefined): Promise<SessionEnd> {
  let resumeFrom: number | undefined;
  s.onMessage((data, binary) => {
    if (binary) return;
    const r = onText(data.toString('utf8'));
    if (r !== undefined) resumeFrom = r;
  });
  const code = await s.closed;
  return { code, ...(resumeFrom !== undefined ? { resumeFrom } : {}) };
}

function resumeHint(app: string, o: LogOptions, cursor: number | undefined): string {
  const cmd = ['dream logs', app, o.follow ? '-f' : '', cursor !== undefined ? `--since ${cursor}` : '', o.source === 'build' ? '--build' : '', o.replica ? `--replica ${o.replica}` : '']
    .filter(Boolean).join(' ');
  return `Start the api (\`npm start\`), then go on where you left off with \`${cmd}\`.`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const logsCommands: Record<string, Handler> = { logs };
