// Makes the base images generated Dockerfiles use, locally: `dreamnet/debian:bookworm` from
// debootstrap (Debian's mirror is reachable even where registries are not) and `dreamnet/node:20`
// from it plus this host's own node and npm. Air-gapped installs point DREAM_BASE_IMAGE_* at these.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, must, pipe } from './lib/run.js';

export const DEBIAN_IMAGE = 'dreamnet/debian:bookworm';
export const NODE_IMAGE = 'dreamnet/node:20';
const exists = async (image: string) => (await run('docker', ['image', 'inspect', image], { quiet: true })) === 0;

async function debian(mirror: string): Promise<void> {
  if (await exists(DEBIAN_IMAGE)) return;
  if (!fs.existsSync('/usr/sbin/debootstrap')) {
    await must('apt-get', ['update', '-qq']);
    await must('apt-get', ['install', '-y', '-qq', 'debootstrap'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-rootfs-'));
  console.log(`[setup] debootstrap bookworm → ${DEBIAN_IMAGE} (about 30 s)…`);
  await must('debootstrap', ['--variant=minbase', 'bookworm', dir, mirror], { quiet: true });
  await pipe(['tar', ['-C', dir, '-c', '.']], ['docker', ['import', '--change', 'CMD ["bash"]', '-', DEBIAN_IMAGE]]);
  fs.rmSync(dir, { recursive: true, force: true });
}

async function node(): Promise<void> {
  if (await exists(NODE_IMAGE)) return;
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-node-'));
  const nodeBin = fs.realpathSync(process.execPath);
  const npmDir = path.resolve(path.dirname(nodeBin), '../lib/node_modules/npm');
  fs.copyFileSync(nodeBin, path.join(ctx, 'node'));
  fs.cpSync(npmDir, path.join(ctx, 'npm'), { recursive: true });
  const ca = '/etc/ssl/certs/ca-certificates.crt';
  if (fs.existsSync(ca)) fs.copyFileSync(ca, path.join(ctx, 'ca.crt')); else fs.writeFileSync(path.join(ctx, 'ca.crt'), '');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
    `FROM ${DEBIAN_IMAGE}`,
    'COPY node /usr/local/bin/node',
    'COPY npm /usr/local/lib/node_modules/npm',
    'COPY ca.crt /etc/ssl/certs/dream-host-ca.crt',
    'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\',
    ' && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
    ' && groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/sh node',
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/dream-host-ca.crt',
    'CMD ["node"]',
    '',
  ].join('\n'));
  console.log(`[setup] building ${NODE_IMAGE} from the host's node ${process.version}…`);
  await must('docker', ['build', '-q', '-t', NODE_IMAGE, ctx], { quiet: true });
  fs.rmSync(ctx, { recursive: true, force: true });
}

export async function ensureBaseImages(mirror = 'http://deb.debian.org/debian'): Promise<void> {
  await debian(mirror);
  await node();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await ensureBaseImages(process.argv[2]);
  console.log(`[setup] base images ready: ${DEBIAN_IMAGE}, ${NODE_IMAGE}`);
}
