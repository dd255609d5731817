-- whago-jobs schema, version 24: a chip's message in flight, found without scanning its campaign.
--
-- Every run of a campaign's sender first asks whether its chip has a message `sending` (an earlier
-- run was interrupted). The state index answers with every message in flight in the campaign, one
-- per chip, and each row is read to find this chip's; this index holds only the rows in flight
-- (a hundred or so while a campaign sends, none when it rests), keyed by campaign and chip.
CREATE INDEX campaign_messages_in_flight_idx ON campaign_messages (campaign_id, chip_id) WHERE state = 'sending';
