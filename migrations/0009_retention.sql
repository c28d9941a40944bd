-- Housekeeping prunes handled updates and sent calls RETENTION_DAYS after
-- they finished, and the brute-force tables once their rows no longer count.
-- Each prune finds its rows through an index instead of reading the table.
-- finished_at and sent_at are NULL until then, so a partial index on the
-- non-NULL ones serves `finished_at < ?` and holds no pending row.
CREATE INDEX inbox_finished ON inbox (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
-- Dead letters: /status and /metrics count them, pruning finds old ones.
CREATE INDEX outbox_dead ON outbox (created_at) WHERE status = 'dead';
CREATE INDEX enrolment_requests_asked ON enrolment_requests (asked_at);
CREATE INDEX passcode_failures_at ON passcode_failures (at);
CREATE INDEX lockouts_until ON lockouts (until);

-- Updates the flood limit dropped, counted per user in the transaction that
-- finishes each of them; housekeeping turns each row into one audit row
-- every minute and deletes it. A drop is never unaccounted for, also across
-- a crash, and a flood of N updates costs a handful of audit rows, not N.
CREATE TABLE flood_drops (
    user_id      INTEGER PRIMARY KEY,
    dropped      INTEGER NOT NULL,
    first_update INTEGER NOT NULL,
    last_update  INTEGER NOT NULL,
    first_at     INTEGER NOT NULL, -- unix milliseconds
    last_at      INTEGER NOT NULL
) STRICT;
