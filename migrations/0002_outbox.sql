-- Every Bot API call that sends something, written before it is attempted.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         INTEGER NOT NULL,
    method          TEXT    NOT NULL,
    params          TEXT    NOT NULL, -- JSON; emptied once sent
    update_id       INTEGER,          -- the update that caused it, if any
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, -- unix milliseconds
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;

CREATE INDEX outbox_pending ON outbox (chat_id, id) WHERE status = 'pending';
