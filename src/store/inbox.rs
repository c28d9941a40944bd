//! The `inbox` table: updates as Telegram delivered them, until handled.

use sqlx::{FromRow, SqliteConnection};

use super::{Db, now_ms};

/// An update accepted by the webhook, about to be stored.
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub update_id: i64,
    pub kind: String,
    pub chat_key: Option<i64>,
    pub payload: String,
}

/// An update waiting to be handled.
#[derive(Debug, Clone, FromRow)]
pub struct PendingUpdate {
    pub update_id: i64,
    pub kind: String,
    pub chat_key: Option<i64>,
    pub payload: String,
    pub attempts: i64,
}

/// How an update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Done,
    Unsupported,
    Failed,
}

impl Finish {
    fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Unsupported => "unsupported",
            Self::Failed => "failed",
        }
    }
}

/// Stores a batch in one transaction. For each update, `true` when it was
/// stored and `false` when its update_id was already there (a redelivery).
pub async fn insert_batch<'a>(
    db: &Db,
    updates: impl IntoIterator<Item = &'a NewUpdate>,
) -> sqlx::Result<Vec<bool>> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut stored = Vec::new();
    for u in updates {
        let result = sqlx::query(
            "INSERT INTO inbox (update_id, kind, chat_key, payload, received_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
        )
        .bind(u.update_id)
        .bind(&u.kind)
        .bind(u.chat_key)
        .bind(&u.payload)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        stored.push(result.rows_affected() == 1);
    }
    tx.commit().await?;
    Ok(stored)
}

/// Pending updates in update_id order.
pub async fn pending(db: &Db, limit: i64) -> sqlx::Result<Vec<PendingUpdate>> {
    sqlx::query_as(
        "SELECT update_id, kind, chat_key, payload, attempts FROM inbox
         WHERE status = 'pending' ORDER BY update_id LIMIT ?",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Counts one more attempt before handling starts, so an update that kills
/// the process every time is still given up on after a few restarts.
pub async fn count_attempt(db: &Db, update_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ?")
        .bind(update_id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Marks an update finished and drops its payload (message texts are not kept
/// once handled). Failed updates keep theirs for inspection.
pub async fn finish(
    conn: &mut SqliteConnection,
    update_id: i64,
    how: Finish,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE inbox SET status = ?, finished_at = ?, last_error = ?,
                payload = CASE WHEN ? = 'failed' THEN payload ELSE NULL END
         WHERE update_id = ?",
    )
    .bind(how.as_str())
    .bind(now_ms())
    .bind(error)
    .bind(how.as_str())
    .bind(update_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The status of one update, if it is stored.
pub async fn status(db: &Db, update_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT status FROM inbox WHERE update_id = ?")
        .bind(update_id)
        .fetch_optional(db)
        .await
}

/// How many updates wait to be handled.
pub async fn count_pending(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE status = 'pending'")
        .fetch_one(db)
        .await
}
