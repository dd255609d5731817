-- whago-jobs schema, version 9: events a tenant and WHAGO's backend read as a feed.
--
-- Each event names what it is about (its subject: a campaign, a chip, an invoice, …) and the
-- transaction that wrote it. The feed returns events in id order, and only those whose writing
-- transaction is older than every transaction still running: an id is taken when the row is
-- inserted, not when it commits, so without this a reader could pass id 11 while id 10 is still
-- uncommitted and never see 10.
ALTER TABLE events
  ADD COLUMN subject_type text CHECK (subject_type IN ('campaign', 'chip', 'invoice', 'subscription', 'maturation')),
  ADD COLUMN subject_id   bigint,
  ADD COLUMN xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
  ADD CONSTRAINT events_subject_whole CHECK ((subject_type IS NULL) = (subject_id IS NULL));

-- The service's feed across tenants, by type.
CREATE INDEX events_kind_idx ON events (kind, id);
