// The proxy process: config → internal token → listen; SIGTERM/SIGINT close cleanly.
import { internalToken, loadConfig } from '@dreamnet/core';
import { pino } from 'pino';
import { startProxy } from './server.js';

const config = loadConfig();
const log = pino({ level: config.logLevel, name: 'proxy' });
const proxy = await startProxy({ config, token: internalToken(config), log });

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    proxy.close().then(() => process.exit(0), (e) => { log.error({ err: e }, 'close failed'); process.exit(1); });
  });
}
