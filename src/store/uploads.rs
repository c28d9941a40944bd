//! The `uploads` table: each file sent in the chat, from the update that
//! brought it (pending) to where it was stored, or why not. Every change
//! of state is one operation here, with the calls and the audit row it
//! causes in the same transaction.

use sqlx::{FromRow, SqliteConnection};

use super::{
    Db,
    audit::{self, Entry},
    now_ms,
    outbox::{self, NewCall},
};

/// A file to fetch, written inside the transaction that finishes the
/// update which brought it (`upload.id` is not used); returns its id.
pub async fn queue(conn: &mut SqliteConnection, upload: &Pending) -> sqlx::Result<i64> {
    let id = sqlx::query(
        "INSERT INTO uploads (user_id, chat_id, message_id, file_id, name, size, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(upload.user_id)
    .bind(upload.chat_id)
    .bind(upload.message_id)
    .bind(&upload.file_id)
    .bind(&upload.name)
    .bind(upload.size)
    .bind(now_ms())
    .execute(conn)
    .await?
    .last_insert_rowid();
    Ok(id)
}

/// A file not yet fetched.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Pending {
    pub id: i64,
    pub user_id: i64,
    pub chat_id: i64,
    pub message_id: i64,
    pub file_id: String,
    pub name: String,
    pub size: Option<i64>,
}

/// The uploads a stopped telegate left unfinished, oldest first.
pub async fn pending(db: &Db) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as(
        "SELECT id, user_id, chat_id, message_id, file_id, name, size FROM uploads
         WHERE state = 'pending' ORDER BY id",
    )
    .fetch_all(db)
    .await
}

/// Where a file was stored.
#[derive(Debug, Clone)]
pub struct Stored<'a> {
    /// Relative to UPLOAD_DIR.
    pub path: &'a str,
    pub bytes: i64,
    pub sha256: &'a str,
}

/// Ends upload `id`, stored (with where) or failed (`None`), queues
/// `calls` and writes `entry`, in one transaction; returns the calls' ids.
pub async fn finish(
    db: &Db,
    id: i64,
    stored: Option<&Stored<'_>>,
    calls: &[NewCall],
    entry: &Entry,
) -> sqlx::Result<Vec<i64>> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE uploads SET state = ?, path = ?, bytes = ?, sha256 = ?, ended_at = ?
         WHERE id = ?",
    )
    .bind(if stored.is_some() { "stored" } else { "failed" })
    .bind(stored.map(|s| s.path))
    .bind(stored.map(|s| s.bytes))
    .bind(stored.map(|s| s.sha256))
    .bind(now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?;
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
        "SELECT path FROM uploads
         WHERE chat_id = ? AND message_id = ? AND user_id = ? AND state = 'stored'
         ORDER BY id DESC LIMIT 1",
    )
    .bind(chat_id)
    .bind(message_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}
