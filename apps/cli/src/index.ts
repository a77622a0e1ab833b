// Public surface of @dreamnet/cli for other packages and tests.
export { run, HANDLERS } from './run.js';
export { parseArgs, UsageError, type Parsed, type Flags } from './args.js';
export { DreamClient, type ClientOptions } from './client.js';
export { ApiError, CliError } from './errors.js';
export { configPath, resolveSettings, readCredentials, writeCredentials, DEFAULT_URL } from './config-file.js';
export type * from './api-types.js';
