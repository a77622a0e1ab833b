// One catalogue of every error the platform can return. Domain code throws DreamError with a code
// from here; one HTTP error handler turns it into { statusCode, code, error, message, requestId }.
// docs/errors.md must list every code (a test enforces it).

export const ERRORS = {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid.' },
  INVALID_APP_NAME: { status: 400, message: 'App names must match ^[a-z][a-z0-9-]{0,62}$ (lowercase letters, digits and dashes, starting with a letter).' },
  INVALID_CONFIG_KEY: { status: 400, message: 'Config keys must match ^[A-Z_][A-Z0-9_]{0,127}$ (e.g. DATABASE_URL).' },
  INVALID_REF: { status: 400, message: 'That git ref name is not valid.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than allowed.' },
  UNAUTHENTICATED: { status: 401, message: 'Missing or invalid token. Run `dream login` or send `Authorization: Bearer <token>`.' },
  FORBIDDEN: { status: 403, message: 'This token may not do that.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  APP_NOT_FOUND: { status: 404, message: 'No app with that name. List apps with `dream apps`.' },
  APP_EXISTS: { status: 409, message: 'An app with that name already exists. Pick another name.' },
  RELEASE_NOT_FOUND: { status: 404, message: 'No such release for this app. List them with `dream releases APP`.' },
  DEPLOYMENT_NOT_FOUND: { status: 404, message: 'No such deployment for this app.' },
  NO_RELEASE: { status: 409, message: 'This app has no release yet. Deploy it first with `git push dream main`.' },
  DEPLOY_IN_PROGRESS: { status: 409, message: 'Another deployment of this app is running. Wait for it to finish, then try again.' },
  BUILD_FAILED: { status: 422, message: 'The build failed. Read the build output above for the failing step.' },
  HEALTH_CHECK_FAILED: { status: 422, message: 'The new release did not become healthy; the previous release keeps serving.' },
  DEPLOY_FAILED: { status: 500, message: 'The deployment failed; the previous release keeps serving.' },
  BUILDER_UNAVAILABLE: { status: 503, message: 'The builder is not reachable. Check that it is running (`npm start` starts it).' },
  TARGET_UNAVAILABLE: { status: 503, message: 'The deployment target is not reachable. Check that the Docker engine is running.' },
  API_STOPPING: { status: 503, message: 'The api is stopping (a restart or an upgrade). Try again in a few seconds.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side. The request id is in the server log.' },
  ARCHIVE_REJECTED: { status: 400, message: 'The source archive was rejected: it must be a tar or tar.gz of regular files and directories, with relative paths inside the archive.' },
  ARCHIVE_TOO_LARGE: { status: 413, message: 'The source archive is larger, or has more files, than allowed (DREAM_MAX_UPLOAD_BYTES, DREAM_MAX_UPLOAD_FILES).' },
  IDEMPOTENCY_KEY_REUSED: { status: 409, message: 'That Idempotency-Key was already used for a different request, or that request is still being accepted.' },
  RATE_LIMITED: { status: 429, message: 'Too many failed authentication attempts from this address. Wait a minute, then try again with a valid token.' },
  TOKEN_NOT_FOUND: { status: 404, message: 'No token with that id. List tokens with `dream tokens`.' },
  WEBHOOK_DISABLED: { status: 404, message: 'Webhooks are off for this app: no webhook secret is set (set one with PUT /v1/apps/:app/hooks).' },
  WEBHOOK_SIGNATURE_INVALID: { status: 401, message: 'The webhook signature does not match the webhook secret of this app.' },
  WEBHOOK_REPLAYED: { status: 409, message: 'This webhook delivery was already received.' },
  REPO_URL_NOT_ALLOWED: { status: 400, message: 'That repository URL is not allowed: use one of the schemes in DREAM_WEBHOOK_GIT_SCHEMES (https by default).' },
  FETCH_FAILED: { status: 502, message: 'Fetching the repository for the webhook failed.' },
  BACKUP_INVALID: { status: 400, message: 'That is not a usable DreamNet backup: it is damaged, truncated, from a newer platform, or its encryption key is missing.' },
  RESTORE_REFUSED: { status: 409, message: 'Restore is only allowed into a fresh install (no apps yet). Restore on a new install, or pass --replace to replace everything here.' },
  DOMAIN_INVALID: { status: 400, message: 'Domain names must be lowercase, at most 253 characters, made of labels (a-z, 0-9, inner hyphens) separated by single dots, with no wildcard and not an IP address.' },
  DOMAIN_RESERVED: { status: 409, message: 'Names under .dream (and the platform\'s own domain) are given to apps automatically: every app is already served at <app>.dream.' },
  DOMAIN_TAKEN: { status: 409, message: 'That domain already belongs to another app. Move it with `dream domains add APP HOST --move`, or remove it there first with `dream domains remove`.' },
  DOMAIN_NOT_FOUND: { status: 404, message: 'This app has no such domain. List its domains with `dream domains APP`.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class DreamError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail?: unknown;
  constructor(code: ErrorCode, message?: string, detail?: unknown) {
    super(message ?? ERRORS[code].message);
    this.name = 'DreamError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.detail = detail;
  }
}

export function isDreamError(e: unknown): e is DreamError {
  return e instanceof DreamError;
}
