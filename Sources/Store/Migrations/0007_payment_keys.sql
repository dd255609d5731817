-- whago-jobs schema, version 7: how far the gateway can be trusted to remember an attempt's key.
--
-- A gateway replays the first answer under an idempotency key only for a while (Stripe prunes keys
-- after 24 h), and replays an answer that is not an outcome (a stored 500, "processing") for as
-- long as it keeps the key. An attempt retried past either is looked up at the gateway first; only
-- when no charge exists does it go out again, under a new key (`-r<n>` after the attempt's own).
ALTER TABLE payments ADD COLUMN key_sent_at timestamptz;                 -- first sent under this key
ALTER TABLE payments ADD COLUMN key_used_at timestamptz;                 -- last sent under this key
ALTER TABLE payments ADD COLUMN key_unsettled boolean NOT NULL DEFAULT false;  -- a non-outcome is stored under it
ALTER TABLE payments ADD COLUMN key_renewals int NOT NULL DEFAULT 0;
