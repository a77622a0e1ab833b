// A real headless Chromium driven over the DevTools protocol (CDP) with `ws`, for tests that must
// see what a browser sees (its certificate checks, ALPN, redirects, WebSockets). No playwright or
// puppeteer: a launch, one WebSocket and a few commands are all the tests need.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';

export const CHROMIUM = '/usr/bin/chromium';

type Msg = { id?: number; method?: string; params?: any; sessionId?: string; result?: any; error?: { message: string } };

export interface Page {
  /** A command to this page's session. */
  send(method: string, params?: object): Promise<any>;
  /** Every event of this page so far and later (method + params), in order. */
  events: { method: string; params: any }[];
  /** Resolves with the first event (past or future) matching; rejects after `ms`. */
  waitFor(method: string, match?: (p: any) => boolean, ms?: number): Promise<any>;
  /** Runtime.evaluate by value (promises awaited). */
  evaluate(expression: string): Promise<any>;
}

export interface Browser { newPage(): Promise<Page>; close(): Promise<void>; stderr(): string }

/**
 * Launches Chromium with `home` as HOME — on Linux it takes its trusted roots from
 * $HOME/.pki/nssdb, so a test decides what the browser trusts — and `args` added.
 */
export async function launchChromium(home: string, args: string[] = []): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package \`chromium\` (tsx scripts/ensure-test-deps.ts does, as root)`);
  const profile = fs.mkdtempSync(path.join(home, 'chromium-profile-'));
  const child: ChildProcess = spawn(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--remote-debugging-port=0', ...args, 'about:blank',
  ], { env: { ...process.env, HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Port 0 lets Chromium pick a free port; it writes "<port>\n<browser ws path>" into this file.
  const portFile = path.join(profile, 'DevToolsActivePort');
  const until = Date.now() + 15_000;
  while (!fs.existsSync(portFile) || fs.readFileSync(portFile, 'utf8').split('\n').length < 2) {
    if (child.exitCode !== null || Date.now() > until) { child.kill('SIGKILL'); throw new Error(`Chromium did not start: ${stderr.slice(-2000)}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  const [port, wsPath] = fs.readFileSync(portFile, 'utf8').split('\n');
  const ws = new WebSocket(`ws://127.0.0.1:${port}${wsPath}`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });

  let nextId = 1;
  const pending = new Map<number, { resolve: (r: any) => void; reject: (e: Error) => void; method: string }>();
  const listeners = new Map<string, (m: Msg) => void>(); // by sessionId: one page each
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Msg;
    const p = m.id !== undefined ? pending.get(m.id) : undefined;
    if (p) { pending.delete(m.id!); if (m.error) p.reject(new Error(`${p.method}: ${m.error.message}`)); else p.resolve(m.result); }
    else if (m.method && m.sessionId) listeners.get(m.sessionId)?.(m);
  });
  const send = (method: string, params: object = {}, sessionId?: string): Promise<any> => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject, method });
    ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
  });

  return {
    stderr: () => stderr,
    async newPage() {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      // flatten: the page's commands and events travel on this same socket, tagged with sessionId.
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      const events: Page['events'] = [];
      const waiters = new Set<() => void>();
      listeners.set(sessionId, (m) => { events.push({ method: m.method!, params: m.params }); for (const w of [...waiters]) w(); });
      const page: Page = {
        events,
        send: (method, params) => send(method, params, sessionId),
        waitFor: (method, match = () => true, ms = 10_000) => new Promise((resolve, reject) => {
          const check = () => {
            const e = events.find((x) => x.method === method && match(x.params));
            if (e) { waiters.delete(check); clearTimeout(t); resolve(e.params); }
          };
          const t = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${method} within ${ms} ms; saw ${events.map((e) => e.method).join(', ')}`)); }, ms);
          waiters.add(check);
          check();
        }),
        async evaluate(expression) {
          const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId);
          if (r.exceptionDetails) throw new Error(`evaluate ${expression}: ${JSON.stringify(r.exceptionDetails).slice(0, 500)}`);
          return r.result.value;
        },
      };
      await Promise.all(['Page.enable', 'Network.enable', 'Runtime.enable', 'Security.enable'].map((m) => page.send(m)));
      return page;
    },
    async close() {
      // Browser.close ends it cleanly; SIGKILL if it has not gone within 3 s.
      if (ws.readyState === WebSocket.OPEN) send('Browser.close').catch(() => {});
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      ws.terminate();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
