-- whago-jobs schema, version 8: when a warm-up message went in flight.
--
-- A run that finds an exchange in flight looks in the chat for the message before sending it
-- again. Looked for since the exchange was planned (the whole day), the same phrase sent by
-- another exchange of the pair matched, and the exchange was recorded sent without going out.
-- It is looked for from the moment it went in flight, among messages no other exchange recorded.
ALTER TABLE maturation_exchanges ADD COLUMN sending_at timestamptz;
