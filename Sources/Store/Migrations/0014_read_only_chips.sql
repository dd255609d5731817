-- whago-jobs schema, version 14: chips over the plan's limit are read-only.
--
-- A downgrade (at the renewal, or the drop to free after a cancellation or a suspension) can
-- leave a tenant more chips than its new plan allows. The renewal still happens; the extra chips
-- stop sending (read_only_since) until a plan allows them again. Which ones stay writable: those
-- the tenant listed in keep_chips, in its order, then the oldest; so by default the newest go
-- read-only first.
ALTER TABLE chips ADD COLUMN read_only_since timestamptz;
ALTER TABLE tenants ADD COLUMN keep_chips bigint[];
