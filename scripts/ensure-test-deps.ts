// Test-only tools the e2e suite needs besides Docker: Pebble (Let's Encrypt's test ACME server, the
// Debian package `pebble`, which also ships pebble-challtestsrv). Idempotent; installs with apt-get
// as root on Debian/Ubuntu, otherwise says what to install.
import fs from 'node:fs';
import { must, run } from './lib/run.js';

export const PEBBLE = '/usr/bin/pebble';

export async function ensureTestDeps(): Promise<void> {
  if (fs.existsSync(PEBBLE)) return;
  if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error('The TLS tests need Pebble: install the Debian/Ubuntu package `pebble` (apt-get install pebble), or run the tests as root on Debian/Ubuntu and it will be installed.');
  }
  console.log('[setup] installing pebble (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Straight from the package lists first; refresh them only if that fails.
  if ((await run('apt-get', ['install', '-y', '-qq', 'pebble'], { env, quiet: true })) === 0) return;
  await must('apt-get', ['update', '-qq'], { env });
  await must('apt-get', ['install', '-y', '-qq', 'pebble'], { env });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await ensureTestDeps();
  } catch (e) {
    console.error(`[setup] ${(e as Error).message}`);
    process.exit(1);
  }
}
