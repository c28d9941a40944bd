-- Users enrolled at run time (the owner and ALLOWED_CHAT_IDS come from the
-- configuration and are not stored here).
CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,
    role        TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user')),
    how         TEXT    NOT NULL, -- 'passcode'
    enrolled_at INTEGER NOT NULL  -- unix milliseconds
) STRICT;

-- Strangers who sent /start and were asked for the passcode.
CREATE TABLE enrolment_requests (
    user_id  INTEGER PRIMARY KEY,
    asked_at INTEGER NOT NULL
) STRICT;

-- Wrong passcodes, kept for the lockout window.
CREATE TABLE passcode_failures (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX passcode_failures_user ON passcode_failures (user_id, at);

CREATE TABLE lockouts (
    user_id INTEGER PRIMARY KEY,
    until   INTEGER NOT NULL
) STRICT;
