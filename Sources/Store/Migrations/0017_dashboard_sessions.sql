-- whago-jobs schema, version 17: dashboard sessions and login throttling.
--
-- A browser that logs in with an admin key gets a random session id in its cookie, never the key.
-- Only the id's SHA-256 is kept, so a copy of this table opens nothing. A session ends when it has
-- been idle too long, when it reaches its absolute lifetime, at logout (revoked_at), or when its
-- key is revoked. Each session carries the CSRF token its forms must send back.
CREATE TABLE dashboard_sessions (
  id_hash      bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
  api_key_id   bigint NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  csrf_token   text NOT NULL CHECK (char_length(csrf_token) >= 32),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX dashboard_sessions_key_idx ON dashboard_sessions (api_key_id);
CREATE INDEX dashboard_sessions_created_idx ON dashboard_sessions (created_at);

-- Failed logins, by the address they came from and by the key prefix they tried, so guessing is
-- slowed on every host that serves the dashboard. Rows older than the throttle window are pruned
-- as new ones arrive.
CREATE TABLE dashboard_login_failures (
  scope     text NOT NULL CHECK (char_length(scope) BETWEEN 1 AND 200),
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dashboard_login_failures_scope_idx ON dashboard_login_failures (scope, failed_at);
CREATE INDEX dashboard_login_failures_at_idx ON dashboard_login_failures (failed_at);
