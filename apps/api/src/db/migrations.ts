// Versioned, forward-only schema migrations. Each runs once inside a transaction; the version is
// recorded in SQLite's user_version so a failed migration leaves the previous schema untouched.
export const MIGRATIONS: string[] = [
  /* 1 */ `
  CREATE TABLE apps (
    name TEXT PRIMARY KEY,
    deploy_branch TEXT NOT NULL DEFAULT 'main',
    replicas INTEGER NOT NULL DEFAULT 1,
    health_path TEXT,
    current_release_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE config_vars (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value_sealed TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (app, key)
  );
  CREATE TABLE releases (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    image TEXT NOT NULL,
    image_id TEXT NOT NULL,
    config_sealed TEXT NOT NULL,
    config_keys TEXT NOT NULL,
    kind TEXT,
    git_sha TEXT,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (app, version)
  );
  CREATE TRIGGER releases_immutable BEFORE UPDATE ON releases
    BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
  CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    release_id TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    build_log TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX deployments_app ON deployments (app, created_at);
  CREATE TABLE deployment_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    reason TEXT,
    at TEXT NOT NULL
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    apps TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT
  );
  `,
  /* 2: webhooks, notifications, idempotency keys (issue 5) */ `
  CREATE TABLE app_hooks (
    app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    secret_sealed TEXT,
    repo_url TEXT,
    notify_url TEXT,
    notify_secret_sealed TEXT,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE webhook_deliveries (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    delivery_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (app, delivery_id)
  );
  CREATE TABLE idempotency_keys (
    token_id TEXT NOT NULL,
    key TEXT NOT NULL,
    app TEXT NOT NULL,
    deployment_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (token_id, key)
  );
  `,
  // issue 4: audit of shells and one-off runs (apps/api/src/shell/audit.ts)
  `
  CREATE TABLE shell_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    app TEXT NOT NULL,
    token_id TEXT,
    token_name TEXT,
    target TEXT,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    exit_code INTEGER
  );
  CREATE INDEX shell_sessions_app ON shell_sessions (app, started_at);
  `,
  // issue 3: custom domains (one app each; cascade with the app) and the certificate status proxies report
  `
  CREATE TABLE domains (
    host TEXT PRIMARY KEY,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    created_at TEXT NOT NULL
  );
  CREATE INDEX domains_app ON domains (app);
  CREATE TABLE cert_status (
    host TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    issuer TEXT,
    not_after TEXT,
    error TEXT,
    next_attempt_at TEXT,
    proxy TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  // The proxies the route table waits for (routing/table.ts): a restarted api still waits for the
  // ones seen within the TTL before old replicas stop, not only for those that polled it since.
  `
  CREATE TABLE proxies (
    id TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
  );
  `,
  // Per-app proxy settings (routing/table.ts sends them to the proxies); NULL: the proxy's own
  // DREAM_PROXY_MAX_REQUEST_BODY / DREAM_PROXY_REQUEST_BUFFERING.
  `
  ALTER TABLE apps ADD COLUMN max_request_body INTEGER;
  ALTER TABLE apps ADD COLUMN request_buffering INTEGER;
  `,
];
