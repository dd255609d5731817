-- whago-jobs schema, version 4: where each chip's sender resumes its claims.
--
-- Claiming "the lowest pending message" walks the (campaign_id, state, id) index from its start,
-- and every message already sent left a dead 'pending' entry there until vacuum runs: on a
-- 100,000-recipient campaign the walk grew with every send (280 sends/s at the start, 70 after
-- 38,000). Each chip remembers the highest id it claimed and starts after it; a message handed
-- back to pending moves every chip's cursor below it.
ALTER TABLE campaign_chips ADD COLUMN claim_cursor bigint NOT NULL DEFAULT 0;

-- Sent messages leave dead tuples behind quickly; vacuum the table sooner than the default 20%.
ALTER TABLE campaign_messages SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000);
