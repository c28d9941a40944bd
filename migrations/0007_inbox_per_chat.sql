-- The worker's scan reads a bounded prefix of the pending updates and takes
-- at most a share of any one chat's, so a chat with a backlog (one user
-- flooding) cannot crowd the others out. The prefix is read from this index
-- alone (status is in it, or SQLite reads the table to check the WHERE);
-- only the rows picked are read from the table. Columns that change while
-- an update is pending (attempts) stay out, so the worker does not rewrite
-- index entries.
DROP INDEX inbox_pending;
CREATE INDEX inbox_pending ON inbox (update_id, chat_key, status) WHERE status = 'pending';
