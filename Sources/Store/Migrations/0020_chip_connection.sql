-- whago-jobs schema, version 20: connecting a WhatsApp number end to end.
--
-- A tenant's chips run as sessions in one WAHA container of its own, created by whago through the
-- Docker Engine API (waha_containers: one row per tenant, a host port from a fixed range that two
-- tenants can never share). Each chip reaches WhatsApp through a residential proxy from an
-- operator-managed pool (proxies), with a sticky session id of its own that keeps its IP for life.
-- Proxy passwords are sealed (AES-GCM under WHAGO_SECRET_KEY): a database dump does not give them
-- away. WAHA keys stay as the chips table keeps them: whago must present them.
ALTER TABLE tenants ADD COLUMN uuid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid();
ALTER TABLE chips ADD COLUMN uuid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid();

CREATE TABLE proxies (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider          text NOT NULL CHECK (provider ~ '^[a-z0-9_-]{1,32}$'),
  host              text NOT NULL CHECK (char_length(host) BETWEEN 1 AND 253),
  port              int NOT NULL CHECK (port BETWEEN 1 AND 65535),
  username          text NOT NULL CHECK (char_length(username) BETWEEN 1 AND 200),
  password_sealed   bytea NOT NULL,
  country           text CHECK (country ~ '^[a-z]{2}$'),
  -- How the provider spells a sticky session in the username: {username}, {country}, {session}.
  username_template text NOT NULL CHECK (username_template LIKE '%{session}%'),
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, host, port, username)
);

CREATE TABLE waha_containers (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   bigint NOT NULL UNIQUE REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL UNIQUE,
  host_port   int NOT NULL UNIQUE CHECK (host_port BETWEEN 1 AND 65535),
  api_key     text NOT NULL CHECK (char_length(api_key) >= 32),
  docker_id   text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Since its last chip went; the monitor removes it after a grace period.
  empty_since timestamptz,
  -- Since the monitor first saw it not running (cleared when it runs again).
  stopped_since timestamptz
);

ALTER TABLE chips
  ADD COLUMN container_id      bigint REFERENCES waha_containers (id),
  ADD COLUMN proxy_id          bigint REFERENCES proxies (id),
  ADD COLUMN proxy_session     text CHECK (proxy_session ~ '^[a-z0-9]{12}$'),
  ADD COLUMN provisioning_step text CHECK (provisioning_step IN ('container', 'proxy', 'session', 'done')),
  ADD COLUMN last_error        text CHECK (char_length(last_error) <= 1000);
CREATE INDEX chips_container_idx ON chips (container_id) WHERE container_id IS NOT NULL;
CREATE INDEX chips_proxy_idx ON chips (proxy_id) WHERE proxy_id IS NOT NULL;

-- A FAILED session of a chip whago runs is restarted (chip.restart) a few times with backoff;
-- past that the chip needs someone (needs_attention_since, with an event). WORKING clears both.
ALTER TABLE chips
  ADD COLUMN restart_attempts      int NOT NULL DEFAULT 0 CHECK (restart_attempts >= 0),
  ADD COLUMN needs_attention_since timestamptz;

-- The fleet monitor's samples, one per container a minute, kept 7 days.
CREATE TABLE container_samples (
  container_name text NOT NULL,
  sampled_at     timestamptz NOT NULL DEFAULT now(),
  state          text NOT NULL,
  uptime_s       bigint,
  cpu_percent    double precision,
  memory_percent double precision,
  memory_bytes   bigint,
  sessions       int NOT NULL DEFAULT 0,
  PRIMARY KEY (container_name, sampled_at)
);
CREATE INDEX container_samples_time_idx ON container_samples (sampled_at);

-- Fleet alerts for operators: each raised once while its condition holds, cleared when it ends.
CREATE TABLE container_alerts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('stopped', 'cpu', 'memory', 'orphan', 'ports')),
  subject    text NOT NULL,  -- the container's name ('ports': the range)
  detail     text NOT NULL DEFAULT '',
  raised_at  timestamptz NOT NULL DEFAULT now(),
  cleared_at timestamptz
);
CREATE UNIQUE INDEX container_alerts_active_idx ON container_alerts (kind, subject) WHERE cleared_at IS NULL;
