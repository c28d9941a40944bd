-- The worker's scan takes a bounded number of pending updates per chat, so a
-- chat with a long backlog (one user flooding) cannot crowd the others out.
CREATE INDEX inbox_pending_chat ON inbox (chat_key, update_id) WHERE status = 'pending';
