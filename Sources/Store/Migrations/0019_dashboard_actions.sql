-- whago-jobs schema, version 19: the dashboard's audit trail.
--
-- Every state-changing dashboard action (a retry, a delete, a run-now, a cancel, a schedule paused)
-- is one row, written before it starts, with the admin key that asked. A bulk action over a
-- filtered set records how many jobs matched and counts the ones done as it goes, so its page shows
-- progress and an interrupted run says how far it got. The key's label is copied: the trail must
-- outlive the key. Rows are kept for a year (retention.sweep).
CREATE TABLE dashboard_actions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  api_key_id   bigint REFERENCES api_keys (id) ON DELETE SET NULL,
  key_label    text NOT NULL CHECK (char_length(key_label) BETWEEN 1 AND 200),
  action       text NOT NULL CHECK (char_length(action) BETWEEN 1 AND 100),
  target       text NOT NULL CHECK (char_length(target) <= 2000),
  matched      integer NOT NULL DEFAULT 0 CHECK (matched >= 0),
  done         integer NOT NULL DEFAULT 0 CHECK (done >= 0),
  state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
  error        text CHECK (char_length(error) <= 2000),
  started_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX dashboard_actions_started_idx ON dashboard_actions (started_at DESC);
