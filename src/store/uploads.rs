//! The `uploads` table: where each file sent in the chat was stored. The
//! end of an upload (its row, reply and audit row) is one transaction.

use super::{
    Db,
    audit::{self, Entry},
    now_ms,
    outbox::{self, NewCall},
};

/// A file stored.
#[derive(Debug, Clone)]
pub struct Stored<'a> {
    pub user_id: i64,
    pub chat_id: i64,
    pub message_id: i64,
    /// Relative to UPLOAD_DIR.
    pub path: &'a str,
    pub bytes: i64,
    pub sha256: &'a str,
}

/// Records `stored` (when the upload succeeded), queues `calls` and writes
/// `entry`, in one transaction; returns the calls' ids, in order.
pub async fn finish(
    db: &Db,
    stored: Option<&Stored<'_>>,
    calls: &[NewCall],
    entry: &Entry,
) -> sqlx::Result<Vec<i64>> {
    let mut tx = db.begin().await?;
    if let Some(s) = stored {
        sqlx::query(
            "INSERT INTO uploads (user_id, chat_id, message_id, path, bytes, sha256, stored_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.user_id)
        .bind(s.chat_id)
        .bind(s.message_id)
        .bind(s.path)
        .bind(s.bytes)
        .bind(s.sha256)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    }
    let ids = outbox::insert(&mut tx, None, calls).await?;
    audit::insert(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Where the file of message `message_id` in `chat_id`, sent by `user_id`,
/// was stored (relative to UPLOAD_DIR); `None` when it was not (yet).
pub async fn path_of(
    db: &Db,
    user_id: i64,
    chat_id: i64,
    message_id: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT path FROM uploads WHERE chat_id = ? AND message_id = ? AND user_id = ?
         ORDER BY id DESC LIMIT 1",
    )
    .bind(chat_id)
    .bind(message_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}
