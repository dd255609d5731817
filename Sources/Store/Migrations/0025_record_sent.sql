-- whago-jobs schema, version 25: a send recorded in one statement.
--
-- Recording a send takes the ack lock (version 23) and then reads early_message_acks in a later
-- statement: a statement's snapshot is taken when it starts, so one that waited for the lock
-- inside itself would miss an ack committed while it waited. As a transaction of its own that was
-- four statements and four round trips (BEGIN, the lock, the record, COMMIT) for every message
-- sent. A VOLATILE PL/pgSQL function takes a fresh snapshot for each statement it runs, so the
-- same steps fit in one call, in the caller's autocommit transaction.
--
-- record_sent marks the message `sent` if `run_owner` still owns it, applies an ack that came
-- first, and counts the chip's send. `marked`: this call marked it; `was_sending`: the message
-- was in flight before the call (false: it was recorded already, so the call is a repeat and
-- `chip_sent` still answers); `chip_sent`: the chip's sends for the campaign, or NULL when
-- nothing was counted. The ack's SET list is CampaignStore's `advancedByAck`, written out here.
CREATE FUNCTION record_sent(
  message bigint, waha_id text, chat text, run_owner text, campaign bigint, chip bigint,
  OUT marked boolean, OUT chip_sent integer, OUT was_sending boolean
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  early_ack integer;
BEGIN
  IF waha_id IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(23, hashtext(waha_id));
  END IF;
  WITH prior AS (SELECT m.state FROM campaign_messages m WHERE m.id = message),
  done AS (
    UPDATE campaign_messages m SET state = 'sent', sent_at = now(), waha_message_id = waha_id, chat_id = chat,
      error = NULL
    WHERE m.id = message AND m.state = 'sending' AND m.owner IS NOT DISTINCT FROM run_owner
    RETURNING m.id),
  early AS (
    DELETE FROM early_message_acks e
    WHERE waha_id IS NOT NULL AND e.waha_message_id = waha_id AND (e.chip_id IS NULL OR e.chip_id = chip)
      AND EXISTS (SELECT 1 FROM done)
    RETURNING e.ack),
  counted AS (
    UPDATE campaign_chips cc SET sent = cc.sent + (SELECT count(*) FROM done), last_sent_at = now()
    WHERE cc.campaign_id = campaign AND cc.chip_id = chip
      AND (EXISTS (SELECT 1 FROM done) OR (SELECT p.state FROM prior p) IS DISTINCT FROM 'sending')
    RETURNING cc.sent)
  SELECT EXISTS (SELECT 1 FROM done), (SELECT max(e.ack) FROM early e), (SELECT c.sent FROM counted c),
    (SELECT p.state FROM prior p) IS NOT DISTINCT FROM 'sending'
  INTO marked, early_ack, chip_sent, was_sending;
  IF early_ack IS NOT NULL THEN
    UPDATE campaign_messages m SET state = CASE WHEN early_ack >= 3 THEN 'read' ELSE 'delivered' END,
      delivered_at = coalesce(m.delivered_at, now()),
      read_at = CASE WHEN early_ack >= 3 THEN coalesce(m.read_at, now()) ELSE m.read_at END
    WHERE m.id = message AND m.state = 'sent';
  END IF;
END
$$;
