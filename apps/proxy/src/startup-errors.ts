// What stops the proxy at start-up, by code (docs/errors.md § The proxy at start-up; a test holds
// them equal). Only what the operator has to fix by hand: anything the proxy can mend itself (a
// damaged certificate, account or backoff file) it mends and logs instead.
export const PROXY_STARTUP_ERRORS = {
  ROOT_CA_UNUSABLE: 'The built-in .dream root CA on disk cannot be used.',
  SETTING_FILE_UNREADABLE: 'A file a setting names cannot be read or is not what the setting expects.',
  SETTING_INVALID: 'A setting has a value that cannot be used.',
} as const;
export type ProxyStartupErrorCode = keyof typeof PROXY_STARTUP_ERRORS;

export class ProxyStartupError extends Error {
  constructor(readonly code: ProxyStartupErrorCode, message: string = PROXY_STARTUP_ERRORS[code]) {
    super(message);
    this.name = 'ProxyStartupError';
  }
}
