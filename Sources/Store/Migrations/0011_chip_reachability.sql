-- whago-jobs schema, version 11: how many health checks in a row could not reach a chip's WAHA.
--
-- A WAHA that does not answer leaves the chip's last known status in place (it may be working
-- fine behind a network blip), so reachability is counted apart from status: at the third check
-- in a row that fails, `chip.unreachable` tells the tenant; any answer from WAHA (a check or a
-- session.status webhook) resets the count.
ALTER TABLE chips ADD COLUMN unreachable_checks int NOT NULL DEFAULT 0 CHECK (unreachable_checks >= 0);
