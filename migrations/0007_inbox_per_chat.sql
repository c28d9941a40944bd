-- The worker's scan reads a bounded prefix of the pending updates and takes
-- at most a share of any one chat's, so a chat with a backlog (one user
-- flooding) cannot crowd the others out. The index covers the scan, so the
-- prefix is read from the index alone.
DROP INDEX inbox_pending;
-- (status is in it too: without it SQLite reads the table to check the WHERE.)
CREATE INDEX inbox_pending ON inbox (update_id, chat_key, attempts, kind, status)
    WHERE status = 'pending';
