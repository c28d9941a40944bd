-- Files sent in the chat. A row is written with the update that brought
-- the file (pending), so a download that a stopped telegate did not see to
-- its end is started again at the next start; it ends stored (where the
-- file went, so that a relay command sent as a reply to its message can be
-- given its path) or failed.
CREATE TABLE uploads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,  -- the message that carried the file
    file_id    TEXT    NOT NULL,  -- for getFile
    name       TEXT    NOT NULL,  -- the sanitised name it is stored under
    size       INTEGER,           -- as the message gave it
    state      TEXT    NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'stored', 'failed')),
    path       TEXT,              -- relative to UPLOAD_DIR: "<user id>/<name>"
    bytes      INTEGER,
    sha256     TEXT,
    created_at INTEGER NOT NULL,  -- unix milliseconds
    ended_at   INTEGER
) STRICT;

CREATE INDEX uploads_message ON uploads (chat_id, message_id) WHERE state = 'stored';
CREATE INDEX uploads_pending ON uploads (id) WHERE state = 'pending';
CREATE INDEX uploads_ended ON uploads (ended_at) WHERE ended_at IS NOT NULL;
