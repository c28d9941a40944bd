-- Every update Telegram delivered, keyed by its update_id so a redelivery is
-- recognised. The raw payload is kept only until the update is handled.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    -- The chat (or, without one, the user) whose updates must be handled in order.
    chat_key    INTEGER,
    payload     TEXT,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'done', 'failed', 'unsupported')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    received_at INTEGER NOT NULL, -- unix milliseconds
    finished_at INTEGER
) STRICT;

CREATE INDEX inbox_pending ON inbox (update_id) WHERE status = 'pending';
