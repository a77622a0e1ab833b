// Test-only tools the e2e suite needs besides Docker: Pebble (Let's Encrypt's test ACME server, the
// Debian package `pebble`, which also ships pebble-challtestsrv) and docker-compose (v1, Debian's
// package: the self-hosting tests run compose/docker-compose.yml with it; the compose plugin is not
// packaged); NSS's certutil and vfychain (`libnss3-tools`) and update-ca-certificates for `dream
// trust install`; Chromium (`chromium`) for the tests that drive a real browser over the DevTools
// protocol (test/integration/browser/cdp.ts). Idempotent; installs with apt-get as root on Debian/Ubuntu, otherwise says what to install.
import fs from 'node:fs';
import { must, run } from './lib/run.js';

export const PEBBLE = '/usr/bin/pebble';
const NEEDED: Array<{ file: string; pkg: string; why: string }> = [
  { file: PEBBLE, pkg: 'pebble', why: 'The TLS tests need Pebble' },
  { file: '/usr/bin/docker-compose', pkg: 'docker-compose', why: 'The self-hosting tests need docker-compose' },
  { file: '/usr/bin/vfychain', pkg: 'libnss3-tools', why: 'The `dream trust install` test needs certutil and vfychain (NSS, as browsers verify)' },
  { file: '/usr/sbin/update-ca-certificates', pkg: 'ca-certificates', why: 'The `dream trust install` test needs update-ca-certificates' },
  { file: '/usr/bin/chromium', pkg: 'chromium', why: 'The browser test (proxy-browser.test.ts) needs Chromium' },
];

export async function ensureTestDeps(): Promise<void> {
  const missing = NEEDED.filter((n) => !fs.existsSync(n.file));
  if (missing.length === 0) return;
  const pkgs = missing.map((n) => n.pkg);
  if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(`${missing.map((n) => n.why).join('; ')}: install the Debian/Ubuntu package(s) ${pkgs.map((p) => `\`${p}\``).join(', ')} (apt-get install ${pkgs.join(' ')}), or run the tests as root on Debian/Ubuntu and they will be installed.`);
  }
  console.log(`[setup] installing ${pkgs.join(', ')} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Straight from the package lists first; refresh them only if that fails.
  if ((await run('apt-get', ['install', '-y', '-qq', ...pkgs], { env, quiet: true })) === 0) return;
  await must('apt-get', ['update', '-qq'], { env });
  await must('apt-get', ['install', '-y', '-qq', ...pkgs], { env });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await ensureTestDeps();
  } catch (e) {
    console.error(`[setup] ${(e as Error).message}`);
    process.exit(1);
  }
}
