-- whago-jobs schema, version 10: where events are delivered (outbound webhooks).
--
-- An endpoint belongs to a tenant (its events) or to the service (tenant_id NULL: every tenant's
-- events, for WHAGO's backend). `events` lists the types it wants; empty means every type.
-- Deliveries are jobs on the queue (`webhook.deliver`, one per event and endpoint), enqueued by
-- `webhooks.dispatch` from the event feed at `webhook_dispatch.cursor`, so an event is delivered
-- to the endpoints that existed when it was dispatched.
CREATE TABLE webhook_endpoints (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     bigint REFERENCES tenants (id) ON DELETE CASCADE,
  url           text NOT NULL CHECK (url ~ '^https?://'),
  events        text[] NOT NULL DEFAULT '{}',
  secret        text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- Since when every delivery failed (NULL after a success); past 3 days the endpoint is disabled.
  failing_since timestamptz,
  disabled_at   timestamptz,
  deleted_at    timestamptz
);
CREATE INDEX webhook_endpoints_live_idx ON webhook_endpoints (tenant_id) WHERE deleted_at IS NULL AND disabled_at IS NULL;

-- How far the dispatcher has read the event feed: one row.
CREATE TABLE webhook_dispatch (
  id     int PRIMARY KEY CHECK (id = 1),
  cursor bigint NOT NULL
);
INSERT INTO webhook_dispatch (id, cursor) SELECT 1, coalesce(max(id), 0) FROM events;

ALTER TABLE events DROP CONSTRAINT events_subject_type_check;
ALTER TABLE events ADD CONSTRAINT events_subject_type_check
  CHECK (subject_type IN ('campaign', 'chip', 'invoice', 'subscription', 'maturation', 'webhook_endpoint'));
