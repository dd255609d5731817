-- whago-jobs schema, version 23: WAHA acks that arrive before their send is recorded.
--
-- WAHA answers a send and then reports the message's acks by webhook; the webhook can reach serve
-- before the worker that sent the message has recorded the send (and its WAHA message id). Such an
-- ack waits here, keyed by WAHA's message id, and the send's own transaction applies it. Both sides
-- take the same transaction-scoped advisory lock on the message id, so neither misses the other.
-- Acks for messages no campaign sent (a chip's own chats, maturation) are pruned with the webhook
-- deliveries.
CREATE TABLE early_message_acks (
  waha_message_id text PRIMARY KEY,
  chip_id         bigint,
  ack             smallint NOT NULL CHECK (ack BETWEEN 2 AND 4),
  received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX early_message_acks_received_idx ON early_message_acks (received_at);
