-- whago-jobs schema, version 6: which generation of a campaign was launched.
--
-- A command that (re)starts a campaign (start, resume, a credit pack, a paid invoice) commits the
-- new generation here and then enqueues its `campaign.start`. A process that dies between the two
-- leaves a running campaign with no sender. `campaign.start` records the generation it launched,
-- so `campaigns.sweep` finds generations never launched and launches them again; the job's key is
-- per campaign and generation, so launching one twice adds nothing.
ALTER TABLE campaigns ADD COLUMN launched_generation int NOT NULL DEFAULT 0;
UPDATE campaigns SET launched_generation = generation;
CREATE INDEX campaigns_unlaunched ON campaigns (id) WHERE launched_generation <> generation;
