// trust: print the platform's .dream root certificate; `trust install` (root, Debian/Ubuntu) adds it
// to the system store so curl and friends trust every app's certificate, and to the NSS databases
// Chrome, Chromium and Firefox read on Linux (trust-stores.ts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';
import { certutilSteps, nssDatabases } from './trust-stores.js';

export const SYSTEM_CA_FILE = '/usr/local/share/ca-certificates/dreamnet-dream-root.crt';

const show: Handler = async (ctx) => {
  const ca = await ctx.client().rootCa();
  if (ctx.json(ca)) return;
  ctx.io.stdout(ca.pem.endsWith('\n') ? ca.pem : `${ca.pem}\n`);
  ctx.io.stderr(`SHA-256 fingerprint ${ca.fingerprint256}. It can only vouch for .dream names.\nInstall it with \`sudo dream trust install\` (Debian/Ubuntu), or import it into your browser.\n`);
};

/** Runs argv (no shell), as `user` when given; resolves with the exit code and stdout. */
function exec(cmd: string, args: string[], user?: { uid: number; gid: number }): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    let out = '';
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...user });
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', (e: NodeJS.ErrnoException) => resolve({ code: e.code === 'ENOENT' ? 127 : 1, out: e.message }));
    p.on('exit', (c) => resolve({ code: c ?? 1, out }));
  });
}

/**
 * Whose browsers get the root: under `sudo`, the user who ran it (their home, their uid so the
 * databases stay theirs), not root's.
 */
async function browserUser(env: Record<string, string | undefined>): Promise<{ home: string; user?: { uid: number; gid: number } }> {
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (env.SUDO_USER && /^[a-z_][a-z0-9_.-]*\$?$/i.test(env.SUDO_USER) && uid > 0 && Number.isInteger(uid) && Number.isInteger(gid)) {
    const home = (await exec('getent', ['passwd', env.SUDO_USER])).out.split(':')[5]?.trim();
    if (home) return { home, user: { uid, gid } };
  }
  return { home: env.HOME || os.homedir() };
}

interface BrowserResult { browser: string; dir: string; added: boolean; error?: string }

/** The root added to every browser NSS database of that user (trust-stores.ts). */
async function installInBrowsers(env: Record<string, string | undefined>): Promise<{ home: string; results: BrowserResult[]; noCertutil: boolean }> {
  const { home, user } = await browserUser(env);
  const look = { exists: (f: string) => fs.existsSync(f), list: (d: string) => { try { return fs.readdirSync(d); } catch { return []; } } };
  const results: BrowserResult[] = [];
  for (const db of nssDatabases(home, look)) {
    const [remove, add] = certutilSteps(db.dir, SYSTEM_CA_FILE);
    if ((await exec('certutil', remove!, user)).code === 127) return { home, results, noCertutil: true };
    const r = await exec('certutil', add!, user);
    results.push({ ...db, added: r.code === 0, ...(r.code === 0 ? {} : { error: r.out.trim().slice(0, 300) || `certutil exited with ${r.code}` }) });
  }
  return { home, results, noCertutil: false };
}

const install: Handler = async (ctx) => {
  if (process.getuid?.() !== 0) throw new CliError('Installing into the system store needs root.', 'Run `sudo dream trust install`, or save `dream trust` output and import it yourself.', 1);
  if (!fs.existsSync('/usr/sbin/update-ca-certificates') && !fs.existsSync('/usr/bin/update-ca-certificates')) {
    throw new CliError('update-ca-certificates is not installed (this works on Debian/Ubuntu).', 'Install the `ca-certificates` package, or import `dream trust` output by hand.', 1);
  }
  const ca = await ctx.client().rootCa();
  fs.mkdirSync('/usr/local/share/ca-certificates', { recursive: true });
  fs.writeFileSync(SYSTEM_CA_FILE, ca.pem, { mode: 0o644 });
  const updated = await exec('update-ca-certificates', []);
  if (updated.code !== 0) throw new CliError(`update-ca-certificates exited with ${updated.code}: ${updated.out.trim().slice(0, 300)}`, undefined, 1);
  const browsers = await installInBrowsers(ctx.io.env);
  if (ctx.json({ installed: SYSTEM_CA_FILE, fingerprint256: ca.fingerprint256, browsers: browsers.results })) return browsers.results.some((b) => !b.added) ? 1 : undefined;
  ctx.say(`Installed ${SYSTEM_CA_FILE} (SHA-256 ${ca.fingerprint256}) in the system store: curl, wget, git and Python trust every https://<app>.dream now.`);
  for (const b of browsers.results) ctx.say(b.added ? `${b.browser}: added (${b.dir}).` : `${b.browser}: not added (${b.dir}): ${b.error}`);
  if (browsers.noCertutil) ctx.say('Chrome, Chromium and Firefox keep their own store (NSS): install `libnss3-tools` (certutil) and run `sudo dream trust install` again.');
  else if (browsers.results.length === 0) ctx.say(`No Chrome/Chromium or Firefox certificate database under ${browsers.home}: start the browser once, then run \`sudo dream trust install\` again (or import \`dream trust\` output in its certificate settings).`);
  else if (browsers.results.some((b) => b.added)) ctx.say('Restart the browser for it to read the new root.');
  ctx.say('Node only reads the system store with NODE_USE_SYSTEM_CA=1 (Node 23+) or NODE_EXTRA_CA_CERTS=' + SYSTEM_CA_FILE + '.');
  return browsers.results.some((b) => !b.added) ? 1 : undefined;
};

export const trustCommands: Record<string, Handler> = { trust: show, 'trust install': install };
