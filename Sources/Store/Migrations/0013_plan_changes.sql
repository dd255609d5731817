-- whago-jobs schema, version 13: plan changes in the middle of a period.
--
-- An upgrade is charged at once, pro rata, by a 'proration' invoice for the rest of the period
-- (period_start is the moment of the change); the new plan applies when it is paid. from_plan
-- names the plan it moves away from, so a late payment applies only to the plan it was quoted
-- against. At most one upgrade is being charged per subscription at a time. A period has one
-- renewal; upgrades are not bound to a period's start (two asked in one instant stay two invoices).
ALTER TABLE invoices ADD COLUMN from_plan text;
ALTER TABLE invoices ADD CONSTRAINT invoices_proration_from CHECK ((kind = 'proration') = (from_plan IS NOT NULL));
CREATE UNIQUE INDEX invoices_one_open_upgrade_idx ON invoices (subscription_id)
  WHERE kind = 'proration' AND status = 'open';
ALTER TABLE invoices DROP CONSTRAINT invoices_subscription_id_period_start_key;
CREATE UNIQUE INDEX invoices_one_renewal_idx ON invoices (subscription_id, period_start) WHERE kind = 'renewal';
