-- whago-jobs schema, version 2: what campaign sending needs beyond version 1.

-- A tenant-wide cap on messages a minute, across all its chips (NULL: unlimited). The per-chip gap
-- alone lets a tenant with many chips burst; this is the plan's second bucket. Our defaults: the
-- plan's chips times one message per chip gap (free 6, business 36, enterprise 200).
ALTER TABLE plans ADD COLUMN sends_per_minute int CHECK (sends_per_minute >= 0);
UPDATE plans SET sends_per_minute = CASE name WHEN 'free' THEN 6 WHEN 'business' THEN 36 WHEN 'enterprise' THEN 200 END
WHERE name IN ('free', 'business', 'enterprise');

-- Each start or resume opens a new generation: the per-chip sender jobs of an older one stop by
-- themselves, so a quick pause and resume never leaves two senders on one chip.
ALTER TABLE campaigns ADD COLUMN generation int NOT NULL DEFAULT 0 CHECK (generation >= 0);

-- How many messages each chip sent for the campaign: its pace rests after every `rest_every`.
ALTER TABLE campaign_chips ADD COLUMN sent int NOT NULL DEFAULT 0 CHECK (sent >= 0);
