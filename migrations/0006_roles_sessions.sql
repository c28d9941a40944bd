-- Roles: an owner may use the owner tools (BOT_OWNER_ID always is one). And
-- who let each user in: `how` is 'passcode', 'chat' (an owner's /allow) or
-- 'cli' (`telegate users allow`); `by_user` is the owner who allowed them.
CREATE TABLE users_v2 (
    user_id     INTEGER PRIMARY KEY,
    role        TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'owner')),
    how         TEXT    NOT NULL CHECK (how IN ('passcode', 'chat', 'cli')),
    by_user     INTEGER,
    enrolled_at INTEGER NOT NULL -- unix milliseconds
) STRICT;
INSERT INTO users_v2 (user_id, role, how, enrolled_at)
    SELECT user_id, role, how, enrolled_at FROM users;
DROP TABLE users;
ALTER TABLE users_v2 RENAME TO users;

-- Open sessions for sensitive commands, one per user. A session ends
-- SESSION_TIMEOUT after `last_active` or SESSION_MAX_AGE after `opened_at`.
CREATE TABLE sessions (
    user_id     INTEGER PRIMARY KEY,
    how         TEXT    NOT NULL CHECK (how IN ('totp', 'passcode')),
    opened_at   INTEGER NOT NULL,
    last_active INTEGER NOT NULL
) STRICT;

-- The last TOTP step accepted: every code works once, and an older one never
-- after a newer one. One row: the secret is shared.
CREATE TABLE totp_last_step (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    step INTEGER NOT NULL
) STRICT;
