-- whago-jobs schema, version 5: which run owns a message in flight.
--
-- A worker that stalls longer than its lease (a long GC pause, SIGSTOP, a frozen VM) loses its job
-- to another run while it may still be about to send. Every claim records the run that made it
-- (job id and lease token, `JobContext.fence`); a run that takes over an interrupted message
-- records itself instead, and the pre-send check and the `sent` record succeed only for the run
-- named here, so the stalled run, when it wakes, finds it no longer owns the message and stops.
ALTER TABLE campaign_messages ADD COLUMN owner text;
ALTER TABLE maturation_exchanges ADD COLUMN owner text;
