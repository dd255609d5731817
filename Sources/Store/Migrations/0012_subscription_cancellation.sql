-- whago-jobs schema, version 12: cancelling at the period's end, and subscribing again.
--
-- A cancellation keeps the paid plan until the period it paid for ends (no renewal is charged),
-- then the subscription ends and the tenant drops to the free plan; until then it can be undone.
-- A tenant whose subscription ended can subscribe again: only one live (not canceled)
-- subscription per tenant, and the ended ones stay, with their invoices and payments.
ALTER TABLE subscriptions ADD COLUMN cancel_at_period_end boolean NOT NULL DEFAULT false;
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_tenant_id_key;
CREATE UNIQUE INDEX subscriptions_live_tenant_idx ON subscriptions (tenant_id) WHERE status <> 'canceled';
CREATE INDEX subscriptions_tenant_idx ON subscriptions (tenant_id, id);
