// The builder process: `tsx apps/builder/src/main.ts`. Settings come from DREAM_* (loadConfig).
import { pino } from 'pino';
import { ConfigError, internalToken, keepRunningWithoutStdio, loadConfig } from '@dreamnet/core';
import { startBuilder } from './server.js';

async function main(): Promise<void> {
  keepRunningWithoutStdio();
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) { console.error(`builder: ${e.message}`); process.exit(2); }
    throw e;
  }
  const log = pino({ level: config.logLevel, name: 'builder' });
  const builder = await startBuilder({ config, token: internalToken(config), log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'builder stopping');
    builder.close().then(() => process.exit(0), (e) => { log.error({ err: e }, 'close failed'); process.exit(1); });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e) => { console.error('builder failed to start:', e); process.exit(1); });
