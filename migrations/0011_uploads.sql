-- Files stored from the chat: where each message's file went, so that a
-- relay command sent as a reply to that message can be given its path.
CREATE TABLE uploads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,  -- the message that carried the file
    path       TEXT    NOT NULL,  -- relative to UPLOAD_DIR: "<user id>/<name>"
    bytes      INTEGER NOT NULL,
    sha256     TEXT    NOT NULL,
    stored_at  INTEGER NOT NULL   -- unix milliseconds
) STRICT;

CREATE INDEX uploads_message ON uploads (chat_id, message_id);
CREATE INDEX uploads_stored ON uploads (stored_at);
