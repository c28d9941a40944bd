-- The relay's runs: who asked for which command, and how it went. A row is
-- written before the program starts, so a run telegate did not see to its
-- end (killed, host rebooted) is still 'queued' or 'running' at the next
-- start, which ends its process group and marks it 'interrupted'.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    command      TEXT    NOT NULL,
    user_id      INTEGER NOT NULL,
    chat_id      INTEGER NOT NULL,
    -- How the run is shown: "/logs nginx 50", or "/ask (1 argument)" when
    -- the command's arguments are secret.
    shown        TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'succeeded', 'failed',
                                  'timed_out', 'cancelled', 'interrupted')),
    pgid         INTEGER,          -- the process group, while it may run
    status_call  INTEGER,          -- the outbox row of its status message
    exit         TEXT,             -- "exit code 0", "killed by SIGKILL"
    output_bytes INTEGER,
    created_at   INTEGER NOT NULL, -- unix milliseconds
    started_at   INTEGER,
    ended_at     INTEGER
) STRICT;

CREATE INDEX jobs_live ON jobs (id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_user ON jobs (user_id, id);
CREATE INDEX jobs_ended ON jobs (ended_at) WHERE ended_at IS NOT NULL;

-- The message Telegram made of a sent call (so later calls can edit it), and
-- for an edit, the call whose message it edits: a job's status message is
-- queued before it exists, and its edits name it by the call that sends it.
ALTER TABLE outbox ADD COLUMN message_id INTEGER;
ALTER TABLE outbox ADD COLUMN edit_of INTEGER;
-- A newer edit of a message replaces the one still pending.
CREATE INDEX outbox_edits ON outbox (edit_of) WHERE status = 'pending' AND edit_of IS NOT NULL;
