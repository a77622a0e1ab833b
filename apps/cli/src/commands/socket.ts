// Opening an api WebSocket (logs, shell, run) with the token in the Authorization header. A refusal
// before the upgrade is an ordinary HTTP error answer: it becomes the same ApiError (message + next
// step) a REST call would give; "nobody answered" becomes Unreachable, which callers may retry.
import WebSocket from 'ws';
import type { Context } from '../context.js';
import { ApiError, CliError } from '../errors.js';
import { hintFor } from '../hints.js';

export class Unreachable extends CliError {}

/** Pure: http(s)://host:port + /path + query → ws(s)://… */
export function socketUrl(base: string, path: string, query: URLSearchParams): string {
  const u = new URL(path, base.endsWith('/') ? base : `${base}/`);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.search = query.toString();
  return u.toString();
}

/** Pure: an error answer to the upgrade request → ApiError with a next step. */
export function refusal(status: number, body: string, url: string, app: string, command: string, fallbackHint: string): ApiError {
  let parsed: { code?: unknown; message?: unknown; requestId?: unknown } = {};
  try { parsed = JSON.parse(body) as typeof parsed; } catch { /* not JSON, e.g. a proxy page */ }
  const code = typeof parsed.code === 'string' ? parsed.code : `HTTP_${status}`;
  const message = typeof parsed.message === 'string' && parsed.message ? parsed.message : `The api at ${url} answered HTTP ${status}.`;
  return new ApiError(status, code, message, hintFor(code, { app, command }) ?? fallbackHint, typeof parsed.requestId === 'string' ? parsed.requestId : undefined);
}

/**
 * An open api socket. Its messages are kept from the moment it opens until the caller listens: a
 * short answer (`dream logs --tail 5`, a `dream run` that ends at once) can arrive in the same read
 * as the upgrade, and ws emits those frames before the caller's `await` resumes — they were lost
 * (`dream logs` printed nothing and exited 0; test/integration/cli-socket-early.test.ts).
 */
export interface ApiSocket {
  ws: WebSocket;
  /** Every message since the socket opened, in order, those that came before this call first. */
  onMessage(fn: (data: Buffer, binary: boolean) => void): void;
  /** The close code, once it closed (also when that was before anyone asked). */
  closed: Promise<number>;
}

/** Resolves with the open socket; rejects with ApiError (refused) or Unreachable. */
export function openSocket(ctx: Context, app: string, path: string, query: URLSearchParams, fallbackHint: string): Promise<ApiSocket> {
  const client = ctx.client(); // fails with "log in first" when there is no token
  const url = socketUrl(client.url, path, query);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${ctx.settings.token}` }, handshakeTimeout: 15_000 });
    const early: Array<[Buffer, boolean]> = [];
    let deliver: ((data: Buffer, binary: boolean) => void) | null = null;
    ws.on('message', (data: Buffer, binary: boolean) => { if (deliver) deliver(data, binary); else early.push([data, binary]); });
    const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
    const onMessage = (fn: (data: Buffer, binary: boolean) => void) => {
      deliver = fn;
      for (const [data, binary] of early.splice(0)) fn(data, binary);
    };
    let settled = false;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < 65_536) body += c; });
      res.on('end', () => {
        settled = true;
        reject(refusal(res.statusCode ?? 0, body, client.url, app, ctx.command, fallbackHint));
        ws.terminate();
      });
    });
    ws.on('open', () => { settled = true; resolve({ ws, onMessage, closed }); });
    ws.on('error', (e: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      reject(new Unreachable(
        `Cannot reach the DreamNet api at ${client.url}${e.code ? ` (${e.code})` : ''}. Is it running? Start it with \`npm start\`.`,
        'If the api runs elsewhere, point the CLI at it with --url or DREAM_URL.',
      ));
    });
  });
}
