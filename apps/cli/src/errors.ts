// What a failed command reports: a sentence, what to do next, and the exit code.
// 1 = the operation failed (api error, unreachable api, failed deployment); 2 = wrong usage.

export class CliError extends Error {
  constructor(message: string, readonly hint?: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** An error answer from the api, `{ statusCode, code, error, message, requestId }`. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    hint: string | undefined,
    readonly requestId?: string,
  ) {
    super(message, hint, 1);
    this.name = 'ApiError';
  }
}
