-- whago-jobs schema, version 22: a container that runs but whose WAHA does not answer.
--
-- Docker says such a container is running (its process is alive, wedged or stopped), so its
-- state alone cannot tell; the fleet monitor asks its WAHA each sample and counts the samples in a
-- row without an answer. At the third it restarts the container and raises `unresponsive`.
ALTER TABLE waha_containers ADD COLUMN unanswered_samples int NOT NULL DEFAULT 0 CHECK (unanswered_samples >= 0);
ALTER TABLE container_alerts DROP CONSTRAINT container_alerts_kind_check;
ALTER TABLE container_alerts ADD CONSTRAINT container_alerts_kind_check
  CHECK (kind IN ('stopped', 'cpu', 'memory', 'orphan', 'ports', 'unresponsive'));
