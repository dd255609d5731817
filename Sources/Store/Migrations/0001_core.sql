-- whago-jobs schema, version 1 (PostgreSQL 15).
-- The migrator runs this file inside one transaction and owns schema_migrations; no BEGIN/COMMIT here.
-- Conventions: a NULL numeric limit means unlimited; enums are text with CHECK; times are timestamptz
-- (sessions run in UTC); local wall-clock times (sending windows) are `time` read in the tenant's timezone;
-- ISO weekdays 1 = Monday .. 7 = Sunday; phone numbers are E.164 text ('+5511999999999').

-- ───────────────────────────── plans, tenants, keys ─────────────────────────────

-- What a tenant bought: its limits as data, so an operator edits a plan without a deploy (seeded from jobs/plans.json).
CREATE TABLE plans (
  name                  text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  chips                 int CHECK (chips >= 0),                         -- NULL: unlimited
  monthly_credits       int CHECK (monthly_credits >= 0),               -- NULL: unlimited
  active_campaigns      int CHECK (active_campaigns >= 0),              -- NULL: unlimited
  contacts_per_list     int CHECK (contacts_per_list >= 0),             -- NULL: unlimited
  min_send_gap_ms       int NOT NULL CHECK (min_send_gap_ms >= 0),
  api_requests_per_hour int CHECK (api_requests_per_hour >= 0),         -- 0: no API access; NULL: unlimited
  scheduling            boolean NOT NULL,
  maturation            boolean NOT NULL,
  retention_days        int CHECK (retention_days >= 0),                -- NULL: kept forever
  price_cents           int NOT NULL CHECK (price_cents >= 0),          -- BRL cents per month
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- A WHAGO customer account: its plan, and the timezone and window its sends must stay inside.
CREATE TABLE tenants (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  plan         text NOT NULL REFERENCES plans (name) ON UPDATE CASCADE ON DELETE RESTRICT,
  timezone     text NOT NULL DEFAULT 'America/Sao_Paulo' CHECK (timezone <> ''),
  window_start time NOT NULL DEFAULT '08:00',
  window_end   time NOT NULL DEFAULT '20:00',
  window_days  int[] NOT NULL DEFAULT '{1,2,3,4,5,6}',
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenants_window_order CHECK (window_start < window_end),
  -- <@ is false for an array holding NULL, so this also rejects NULL elements.
  CONSTRAINT tenants_window_days CHECK (cardinality(window_days) BETWEEN 1 AND 7
                                        AND window_days <@ '{1,2,3,4,5,6,7}'::int[])
);
CREATE INDEX tenants_plan_idx ON tenants (plan);

-- Bearer credentials for the HTTP API: tenant keys act as their tenant, service keys (WHAGO's backend) name one per request.
CREATE TABLE api_keys (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    bigint REFERENCES tenants (id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('tenant', 'service', 'admin')),  -- admin: the dashboard
  prefix       text NOT NULL UNIQUE CHECK (char_length(prefix) BETWEEN 4 AND 64),
  secret_hash  bytea NOT NULL CHECK (octet_length(secret_hash) = 32),   -- SHA-256 of the whole key
  label        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  CONSTRAINT api_keys_kind_tenant CHECK ((kind = 'tenant') = (tenant_id IS NOT NULL))
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id) WHERE tenant_id IS NOT NULL;

-- ───────────────────────────── chips ─────────────────────────────

-- A tenant's WhatsApp number: one WAHA session it sends from, with the session status the jobs gate on.
CREATE TABLE chips (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id          bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name               text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  waha_url           text NOT NULL CHECK (waha_url ~ '^https?://'),
  session            text NOT NULL CHECK (char_length(session) BETWEEN 1 AND 100),
  waha_api_key       text,                    -- sent as X-Api-Key; stored as is because we must present it
  chat_id            text,                    -- the session's own me.id ('5511…@c.us'), learnt from WAHA; maturation peers send to it
  status             text NOT NULL DEFAULT 'UNKNOWN'
                       CHECK (status IN ('STOPPED', 'STARTING', 'SCAN_QR_CODE', 'WORKING', 'FAILED', 'UNKNOWN')),
  status_changed_at  timestamptz NOT NULL DEFAULT now(),
  stopped_working_at timestamptz,             -- set when it leaves WORKING, cleared when it comes back
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id),                     -- target of the tenant-consistent foreign keys below
  -- One session is one phone: two rows for it would give it two rate-limit buckets.
  UNIQUE (waha_url, session)
);
CREATE INDEX chips_session_idx ON chips (session);            -- session.status webhooks name the session

-- ───────────────────────────── campaigns ─────────────────────────────

-- A bulk send: one template to a list of recipients, from some of the tenant's chips, at a human pace.
CREATE TABLE campaigns (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  template        text NOT NULL CHECK (template <> ''),
  media_url       text CHECK (media_url ~ '^https?://'),
  status          text NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled')),
  pause_reason    text CHECK (pause_reason IN ('manual', 'no_credits', 'no_working_chips', 'tenant_suspended')),
  min_interval_ms int NOT NULL DEFAULT 30000,    -- random gap between two sends of one chip: [min, max]
  max_interval_ms int NOT NULL DEFAULT 60000,
  rest_every      int DEFAULT 40 CHECK (rest_every > 0),   -- after this many sends of a chip, a longer rest (NULL: never)
  rest_min_ms     int NOT NULL DEFAULT 300000,
  rest_max_ms     int NOT NULL DEFAULT 900000,
  start_at        timestamptz,                   -- a scheduled start (plans with scheduling only)
  started_at      timestamptz,
  completed_at    timestamptz,
  cancelled_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  CONSTRAINT campaigns_pace CHECK (0 <= min_interval_ms AND min_interval_ms <= max_interval_ms),
  CONSTRAINT campaigns_rest CHECK (0 <= rest_min_ms AND rest_min_ms <= rest_max_ms),
  CONSTRAINT campaigns_pause_reason CHECK ((status = 'paused') = (pause_reason IS NOT NULL)),
  CONSTRAINT campaigns_scheduled_start CHECK (status <> 'scheduled' OR start_at IS NOT NULL)
);
CREATE INDEX campaigns_tenant_idx ON campaigns (tenant_id, created_at);
CREATE INDEX campaigns_active_idx ON campaigns (tenant_id) WHERE status IN ('scheduled', 'running', 'paused');
CREATE INDEX campaigns_due_idx ON campaigns (start_at) WHERE status = 'scheduled';

-- Which chips a campaign may send from (rotation among those that are WORKING); both sides belong to one tenant.
CREATE TABLE campaign_chips (
  tenant_id    bigint NOT NULL,
  campaign_id  bigint NOT NULL,
  chip_id      bigint NOT NULL,
  last_sent_at timestamptz,                      -- rotation: the WORKING chip that sent least recently goes next
  PRIMARY KEY (campaign_id, chip_id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, chip_id) REFERENCES chips (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_chips_chip_idx ON campaign_chips (chip_id);

-- One row per recipient of a campaign: its state is written before and after the WAHA call, so a retry never sends twice.
CREATE TABLE campaign_messages (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  campaign_id     bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  phone           text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
  chat_id         text CHECK (chat_id ~ '^[^@[:space:]]+@[a-z.]+$'),  -- from check-exists (Brazil's ninth digit)
  vars            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(vars) = 'object'),
  rendered        text,                           -- the text actually sent
  state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'delivered', 'read', 'failed', 'skipped')),
  waha_message_id text,                           -- the last part of WAHA's id ('3EB08A…'): acks match on it
  chip_id         bigint,
  attempts        int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  error           text,                           -- why it failed or was skipped (e.g. 'opted out', 'number not on WhatsApp')
  created_at      timestamptz NOT NULL DEFAULT now(),
  sending_at      timestamptz,                    -- written just before the HTTP call
  sent_at         timestamptz,                    -- WAHA accepted it
  delivered_at    timestamptz,
  read_at         timestamptz,
  failed_at       timestamptz,
  UNIQUE (campaign_id, phone),
  -- The chip must be one of the campaign's; removing it from the campaign keeps the row, without the chip.
  FOREIGN KEY (campaign_id, chip_id) REFERENCES campaign_chips (campaign_id, chip_id) ON DELETE SET NULL (chip_id)
);
-- Next pending batch (campaign_id, state = 'pending' ORDER BY id), the per-state counts, and "anything left?".
CREATE INDEX campaign_messages_state_idx ON campaign_messages (campaign_id, state, id);
CREATE INDEX campaign_messages_waha_id_idx ON campaign_messages (waha_message_id) WHERE waha_message_id IS NOT NULL;
CREATE INDEX campaign_messages_chip_idx ON campaign_messages (chip_id, campaign_id) WHERE chip_id IS NOT NULL;

-- Per-campaign counts, derived rather than kept as counters so parallel senders never contend on one campaign row.
CREATE VIEW campaign_progress AS
SELECT campaign_id,
       count(*)                                   AS total,
       count(*) FILTER (WHERE state = 'pending')   AS pending,
       count(*) FILTER (WHERE state = 'sending')   AS sending,
       count(*) FILTER (WHERE state IN ('sent', 'delivered', 'read')) AS sent,
       count(*) FILTER (WHERE state IN ('delivered', 'read'))         AS delivered,
       count(*) FILTER (WHERE state = 'read')      AS read,
       count(*) FILTER (WHERE state = 'failed')    AS failed,
       count(*) FILTER (WHERE state = 'skipped')   AS skipped
FROM campaign_messages
GROUP BY campaign_id;

-- Numbers that asked to stop (STOP/SAIR/PARAR/CANCELAR or the API): never sent to again by any campaign of the tenant.
CREATE TABLE opt_outs (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  phone      text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
  source     text NOT NULL CHECK (source IN ('reply', 'api', 'operator')),
  reason     text,                              -- e.g. the keyword received ('SAIR')
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, phone)
);

-- ───────────────────────────── credits ─────────────────────────────

-- A tenant's monthly plan credits for the current period (spent first; reset, not carried over, at renewal).
CREATE TABLE credit_accounts (
  tenant_id            bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  plan_credits_granted int NOT NULL DEFAULT 0 CHECK (plan_credits_granted >= 0),  -- what this period started with
  plan_credits_left    int NOT NULL DEFAULT 0 CHECK (plan_credits_left >= 0),     -- the CHECK makes overspending fail
  period_start         timestamptz NOT NULL DEFAULT now(),
  period_end           timestamptz NOT NULL,
  low_alerted_at       timestamptz,             -- the 10%-left event was recorded this period (NULL after a reset)
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT credit_accounts_period CHECK (period_start < period_end)
);

-- Credit packs a tenant bought: spent after the plan's credits, oldest first, and never expire.
CREATE TABLE credit_packs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  credits      int NOT NULL CHECK (credits > 0),
  credits_left int NOT NULL CHECK (credits_left >= 0),
  price_cents  int NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
  external_ref text UNIQUE,                     -- the purchase it came from (order or gateway payment id): granted once
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT credit_packs_left CHECK (credits_left <= credits)
);
CREATE INDEX credit_packs_spendable_idx ON credit_packs (tenant_id, id) WHERE credits_left > 0;

-- Every change to a tenant's credits, so balances can be explained and a message is charged at most once.
CREATE TABLE credit_ledger (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id           bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  delta               int NOT NULL CHECK (delta <> 0),
  bucket              text NOT NULL CHECK (bucket IN ('plan', 'pack')),
  credit_pack_id      bigint REFERENCES credit_packs (id),
  reason              text NOT NULL
                        CHECK (reason IN ('period_reset', 'period_expired', 'pack_purchase', 'message', 'adjustment')),
  campaign_message_id bigint REFERENCES campaign_messages (id) ON DELETE SET NULL,
  period_start        timestamptz,              -- for period_reset / period_expired: the period concerned
  note                text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT credit_ledger_pack CHECK ((bucket = 'pack') = (credit_pack_id IS NOT NULL)),
  CONSTRAINT credit_ledger_message CHECK (reason <> 'message' OR delta < 0),
  CONSTRAINT credit_ledger_period CHECK (reason NOT IN ('period_reset', 'period_expired') OR period_start IS NOT NULL)
);
CREATE INDEX credit_ledger_tenant_idx ON credit_ledger (tenant_id, created_at);
CREATE INDEX credit_ledger_pack_idx ON credit_ledger (credit_pack_id) WHERE credit_pack_id IS NOT NULL;
-- A message is charged once, however often its job runs; a period is granted once, however often renewal runs.
CREATE UNIQUE INDEX credit_ledger_message_once ON credit_ledger (campaign_message_id) WHERE reason = 'message';
CREATE UNIQUE INDEX credit_ledger_reset_once ON credit_ledger (tenant_id, period_start) WHERE reason = 'period_reset';

-- Things a tenant should hear about (e.g. 'credits.low', 'campaign.paused'), for the backend to read and notify.
CREATE TABLE events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  payload    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
  dedupe_key text,                              -- optional: one event per (tenant, kind, key), e.g. the credit period
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, kind, dedupe_key)          -- NULL keys never collide
);
CREATE INDEX events_tenant_idx ON events (tenant_id, id);

-- ───────────────────────────── maturation ─────────────────────────────

-- A warm-up program: the tenant's chips talk to each other at a slowly rising daily volume, inside a daytime window.
CREATE TABLE maturation_programs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  status       text NOT NULL DEFAULT 'scheduled'
                 CHECK (status IN ('scheduled', 'active', 'paused', 'stopped', 'completed')),
  days         int NOT NULL CHECK (days BETWEEN 1 AND 365),
  daily_ramp   int[],                           -- messages per day (day 1 first; the last repeats); NULL: WHAGO's default ramp
  start_at     timestamptz NOT NULL DEFAULT now(),
  -- Its own window, read in the tenant's timezone (tenants.timezone); our default 09:00-20:00, Monday to Saturday.
  window_start time NOT NULL DEFAULT '09:00',
  window_end   time NOT NULL DEFAULT '20:00',
  window_days  int[] NOT NULL DEFAULT '{1,2,3,4,5,6}',
  paused_at    timestamptz,
  stopped_at   timestamptz,
  completed_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  CONSTRAINT maturation_programs_ramp CHECK (daily_ramp IS NULL OR (cardinality(daily_ramp) BETWEEN 1 AND 365
                                             AND array_position(daily_ramp, NULL) IS NULL
                                             AND 0 <= ALL (daily_ramp))),
  CONSTRAINT maturation_programs_window_order CHECK (window_start < window_end),
  CONSTRAINT maturation_programs_window_days CHECK (cardinality(window_days) BETWEEN 1 AND 7
                                                    AND window_days <@ '{1,2,3,4,5,6,7}'::int[])
);
CREATE INDEX maturation_programs_tenant_idx ON maturation_programs (tenant_id);
CREATE INDEX maturation_programs_live_idx ON maturation_programs (start_at) WHERE status IN ('scheduled', 'active');

-- The chips that take part in a program (at least two, checked by the code); both belong to one tenant.
CREATE TABLE maturation_chips (
  tenant_id  bigint NOT NULL,
  program_id bigint NOT NULL,
  chip_id    bigint NOT NULL,
  PRIMARY KEY (program_id, chip_id),
  FOREIGN KEY (tenant_id, program_id) REFERENCES maturation_programs (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, chip_id) REFERENCES chips (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX maturation_chips_chip_idx ON maturation_chips (chip_id);

-- One program day: its local date and its quota, fixed when the day is first planned (the progress report reads it).
CREATE TABLE maturation_days (
  program_id bigint NOT NULL REFERENCES maturation_programs (id) ON DELETE CASCADE,
  day        int NOT NULL CHECK (day >= 1),
  local_date date NOT NULL,                     -- the date in the tenant's timezone
  quota      int NOT NULL CHECK (quota >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (program_id, day),
  UNIQUE (program_id, local_date),
  UNIQUE (program_id, day, quota)               -- target of maturation_exchanges' quota foreign key
);

-- Each planned or sent warm-up message. (program, day, seq) is unique and seq < that day's quota, so no tick, however
-- often it runs or overlaps, can plan more than the quota: the database refuses the extra row.
CREATE TABLE maturation_exchanges (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  program_id      bigint NOT NULL,
  day             int NOT NULL,
  quota           int NOT NULL,                 -- copied from maturation_days and checked against it by the foreign key
  seq             int NOT NULL,
  from_chip_id    bigint,                       -- NULL only if the chip left the program (rows stay so the quota stays spent)
  to_chip_id      bigint,
  reply_to_id     bigint REFERENCES maturation_exchanges (id) ON DELETE SET NULL,  -- back-and-forth
  text            text NOT NULL CHECK (text <> ''),
  planned_at      timestamptz NOT NULL,
  state           text NOT NULL DEFAULT 'planned'
                    CHECK (state IN ('planned', 'sending', 'sent', 'failed', 'skipped')),
  waha_message_id text,
  attempts        int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  error           text,
  sent_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (program_id, day, seq),
  CONSTRAINT maturation_exchanges_quota CHECK (0 <= seq AND seq < quota),
  CONSTRAINT maturation_exchanges_peers CHECK (from_chip_id IS DISTINCT FROM to_chip_id OR from_chip_id IS NULL),
  FOREIGN KEY (program_id, day, quota) REFERENCES maturation_days (program_id, day, quota) ON DELETE CASCADE,
  FOREIGN KEY (program_id, from_chip_id) REFERENCES maturation_chips (program_id, chip_id) ON DELETE SET NULL (from_chip_id),
  FOREIGN KEY (program_id, to_chip_id) REFERENCES maturation_chips (program_id, chip_id) ON DELETE SET NULL (to_chip_id)
);
CREATE INDEX maturation_exchanges_due_idx ON maturation_exchanges (planned_at) WHERE state = 'planned';
CREATE INDEX maturation_exchanges_from_idx ON maturation_exchanges (from_chip_id, program_id) WHERE from_chip_id IS NOT NULL;
CREATE INDEX maturation_exchanges_to_idx ON maturation_exchanges (to_chip_id, program_id) WHERE to_chip_id IS NOT NULL;
CREATE INDEX maturation_exchanges_reply_idx ON maturation_exchanges (reply_to_id) WHERE reply_to_id IS NOT NULL;

-- Ticks that did nothing for a program and why (e.g. 'chip_not_working', 'outside_window'), counted per local date.
CREATE TABLE maturation_skips (
  program_id bigint NOT NULL REFERENCES maturation_programs (id) ON DELETE CASCADE,
  local_date date NOT NULL,
  reason     text NOT NULL CHECK (reason ~ '^[a-z][a-z0-9_]*$'),
  chip_id    bigint REFERENCES chips (id) ON DELETE CASCADE,   -- the chip concerned, if any
  ticks      int NOT NULL DEFAULT 1 CHECK (ticks >= 1),
  first_at   timestamptz NOT NULL DEFAULT now(),
  last_at    timestamptz NOT NULL DEFAULT now(),
  detail     text,                                             -- the latest specifics (e.g. the chip's status)
  -- Upsert target: ON CONFLICT (program_id, local_date, reason, chip_id) DO UPDATE SET ticks = ticks + 1.
  CONSTRAINT maturation_skips_key UNIQUE NULLS NOT DISTINCT (program_id, local_date, reason, chip_id)
);
CREATE INDEX maturation_skips_chip_idx ON maturation_skips (chip_id) WHERE chip_id IS NOT NULL;

-- ───────────────────────────── billing ─────────────────────────────
-- Money rows are never deleted by a cascade: a tenant with a subscription cannot be deleted by accident.

-- How a tenant pays for its plan: the gateway, the customer and card there, and where it is in the billing cycle.
CREATE TABLE subscriptions (
  id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id               bigint NOT NULL UNIQUE REFERENCES tenants (id) ON DELETE RESTRICT,
  plan                    text NOT NULL REFERENCES plans (name) ON UPDATE CASCADE ON DELETE RESTRICT,
  next_plan               text REFERENCES plans (name) ON UPDATE CASCADE ON DELETE RESTRICT,  -- a downgrade taking effect at the next renewal
  gateway                 text NOT NULL CHECK (gateway IN ('stripe', 'mercadopago', 'paypal')),
  gateway_customer        text NOT NULL CHECK (gateway_customer <> ''),
  payment_method          text,               -- the saved card / vaulted source we charge; NULL when the gateway bills by itself
  gateway_subscription_id text,               -- Mercado Pago preapproval / PayPal subscription the gateway charges itself
  current_period_start    timestamptz NOT NULL DEFAULT now(),
  current_period_end      timestamptz NOT NULL,
  status                  text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'past_due', 'suspended', 'canceled')),
  suspended_at            timestamptz,        -- start of the 7 days before the drop to the free plan
  canceled_at             timestamptz,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT subscriptions_period CHECK (current_period_start < current_period_end),
  CONSTRAINT subscriptions_chargeable CHECK (payment_method IS NOT NULL OR gateway_subscription_id IS NOT NULL),
  CONSTRAINT subscriptions_suspended CHECK (status <> 'suspended' OR suspended_at IS NOT NULL),
  CONSTRAINT subscriptions_canceled CHECK (status <> 'canceled' OR canceled_at IS NOT NULL)
);
CREATE INDEX subscriptions_due_idx ON subscriptions (current_period_end) WHERE status IN ('active', 'past_due');
CREATE INDEX subscriptions_suspended_idx ON subscriptions (suspended_at) WHERE status = 'suspended';
CREATE UNIQUE INDEX subscriptions_gateway_id_idx ON subscriptions (gateway, gateway_subscription_id)
  WHERE gateway_subscription_id IS NOT NULL;

-- What one billing period (or an upgrade's pro-rata difference) costs; created once per subscription and period.
CREATE TABLE invoices (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id bigint NOT NULL REFERENCES subscriptions (id) ON DELETE RESTRICT,
  kind            text NOT NULL DEFAULT 'renewal' CHECK (kind IN ('renewal', 'proration')),
  plan            text NOT NULL,              -- the plan billed, as a snapshot (not a foreign key)
  period_start    timestamptz NOT NULL,
  period_end      timestamptz NOT NULL,
  amount_cents    int NOT NULL CHECK (amount_cents >= 0),
  currency        text NOT NULL DEFAULT 'BRL' CHECK (currency ~ '^[A-Z]{3}$'),
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void', 'uncollectible')),
  next_attempt_at timestamptz,                -- dunning: when the next charge attempt is due (days apart, never hours)
  paid_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subscription_id, period_start),
  CONSTRAINT invoices_period CHECK (period_start < period_end),
  CONSTRAINT invoices_paid CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
CREATE INDEX invoices_dunning_idx ON invoices (next_attempt_at) WHERE status = 'open';

-- The payments ledger: every charge attempt, with the idempotency key the gateway saw, so nothing is charged twice.
CREATE TABLE payments (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  invoice_id         bigint NOT NULL REFERENCES invoices (id) ON DELETE RESTRICT,
  attempt            int NOT NULL CHECK (attempt >= 1),
  idempotency_key    text NOT NULL UNIQUE CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),  -- Stripe's limit
  gateway            text NOT NULL CHECK (gateway IN ('stripe', 'mercadopago', 'paypal')),
  gateway_payment_id text,                    -- PaymentIntent / payment / capture id, once known
  amount_cents       int NOT NULL CHECK (amount_cents >= 0),
  outcome            text NOT NULL DEFAULT 'pending'
                       CHECK (outcome IN ('pending', 'succeeded', 'declined', 'requires_action', 'error')),
  decline_code       text,                    -- e.g. insufficient_funds, lost_card
  advice_code        text,                    -- Stripe's try_again_later / do_not_try_again / confirm_card_data
  error              text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  finished_at        timestamptz,
  UNIQUE (invoice_id, attempt),
  CONSTRAINT payments_finished CHECK ((outcome = 'pending') = (finished_at IS NULL))
);
CREATE UNIQUE INDEX payments_gateway_id_idx ON payments (gateway, gateway_payment_id) WHERE gateway_payment_id IS NOT NULL;
CREATE INDEX payments_pending_idx ON payments (created_at) WHERE outcome = 'pending';

-- Webhook deliveries already handled (WAHA and the gateways retry them): insert first, act only if the insert happened.
CREATE TABLE webhook_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source      text NOT NULL CHECK (source IN ('waha', 'stripe', 'mercadopago', 'paypal')),
  event_id    text NOT NULL CHECK (event_id <> ''),
  event_type  text,                           -- e.g. 'message.ack', 'payment_intent.succeeded'; no payloads (LGPD)
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, event_id)
);
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);   -- pruning old rows
