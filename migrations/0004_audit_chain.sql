-- Each audit row carries a SHA-256 over its content and the previous row's
-- hash, so a row edited or deleted afterwards is detected by `telegate audit verify`.
ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';

-- Where the chain starts once old rows are pruned: the last pruned row.
CREATE TABLE audit_anchor (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT    NOT NULL,
    pruned_at INTEGER NOT NULL -- unix milliseconds
) STRICT;
