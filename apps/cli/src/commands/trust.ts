// trust: print the platform's .dream root certificate; `trust install` (root, Debian/Ubuntu) adds it
// to the system store so curl, node and friends trust every app's certificate.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Handler } from '../context.js';
import { CliError } from '../errors.js';

export const SYSTEM_CA_FILE = '/usr/local/share/ca-certificates/dreamnet-dream-root.crt';

const show: Handler = async (ctx) => {
  const ca = await ctx.client().rootCa();
  if (ctx.json(ca)) return;
  ctx.io.stdout(ca.pem.endsWith('\n') ? ca.pem : `${ca.pem}\n`);
  ctx.io.stderr(`SHA-256 fingerprint ${ca.fingerprint256}. It can only vouch for .dream names.\nInstall it with \`sudo dream trust install\` (Debian/Ubuntu), or import it into your browser.\n`);
};

const install: Handler = async (ctx) => {
  if (process.getuid?.() !== 0) throw new CliError('Installing into the system store needs root.', 'Run `sudo dream trust install`, or save `dream trust` output and import it yourself.', 1);
  if (!fs.existsSync('/usr/sbin/update-ca-certificates') && !fs.existsSync('/usr/bin/update-ca-certificates')) {
    throw new CliError('update-ca-certificates is not installed (this works on Debian/Ubuntu).', 'Install the `ca-certificates` package, or import `dream trust` output by hand.', 1);
  }
  const ca = await ctx.client().rootCa();
  fs.mkdirSync('/usr/local/share/ca-certificates', { recursive: true });
  fs.writeFileSync(SYSTEM_CA_FILE, ca.pem, { mode: 0o644 });
  const code = await new Promise<number>((resolve, reject) => {
    const p = spawn('update-ca-certificates', [], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new CliError(`update-ca-certificates exited with ${code}.`, undefined, 1);
  if (ctx.json({ installed: SYSTEM_CA_FILE, fingerprint256: ca.fingerprint256 })) return;
  ctx.say(`Installed ${SYSTEM_CA_FILE} (SHA-256 ${ca.fingerprint256}); every https://<app>.dream is trusted on this machine now.`);
  ctx.say('Node only reads the system store with NODE_USE_SYSTEM_CA=1 (Node 23+) or NODE_EXTRA_CA_CERTS=' + SYSTEM_CA_FILE + '.');
};

export const trustCommands: Record<string, Handler> = { trust: show, 'trust install': install };
