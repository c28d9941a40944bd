-- One row per decision. Command names and outcomes only: never arguments,
-- message texts or secrets.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL, -- unix milliseconds
    update_id INTEGER,
    kind      TEXT    NOT NULL,
    chat_id   INTEGER,
    user_id   INTEGER,
    command   TEXT,
    decision  TEXT    NOT NULL CHECK (decision IN ('allowed', 'refused', 'unsupported')),
    outcome   TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_at ON audit (at);
