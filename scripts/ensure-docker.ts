// Makes sure a Docker engine answers before `npm start` / `npm test`: on Debian/Ubuntu as root it
// installs docker.io and starts dockerd itself; elsewhere it says what to install. Then it makes the
// local base images (this machine and air-gapped installs cannot pull).
import fs from 'node:fs';
import { run, must } from './lib/run.js';
import { ensureBaseImages } from './base-images.js';

const SOCK = '/var/run/docker.sock';
const has = (bin: string) => ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/bin', '/sbin'].some((d) => fs.existsSync(`${d}/${bin}`));
const engineAnswers = async () => fs.existsSync(SOCK) && (await run('docker', ['version', '--format', '{{.Server.Version}}'], { quiet: true }).catch(() => 1)) === 0;

export async function ensureDocker(): Promise<void> {
  if (await engineAnswers()) return;
  const root = process.getuid?.() === 0;
  if (!root || !has('apt-get')) {
    throw new Error('No Docker engine answers at /var/run/docker.sock. Install and start Docker (https://docs.docker.com/engine/install/), or run this as root on Debian/Ubuntu and it will install docker.io for you.');
  }
  if (!has('dockerd')) {
    console.log('[setup] installing docker.io (apt-get)…');
    await must('apt-get', ['update', '-qq']);
    await must('apt-get', ['install', '-y', '-qq', 'docker.io'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  console.log('[setup] starting dockerd (log: /var/log/dreamnet-dockerd.log)…');
  const log = fs.openSync('/var/log/dreamnet-dockerd.log', 'a');
  const { spawn } = await import('node:child_process');
  spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
  for (let i = 0; i < 120; i++) {
    if (await engineAnswers()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('dockerd did not come up within 60 s; see /var/log/dreamnet-dockerd.log.');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await ensureDocker();
    await ensureBaseImages();
    console.log('[setup] Docker engine ready.');
  } catch (e) {
    console.error(`[setup] ${(e as Error).message}`);
    process.exit(1);
  }
}
