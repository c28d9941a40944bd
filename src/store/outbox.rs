//! The `outbox` table: Bot API calls written before they are attempted.

use serde_json::Value;
use sqlx::{FromRow, SqliteConnection};

use super::{Db, now_ms};

/// A Bot API call to make, such as `sendMessage` with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCall {
    pub chat_id: i64,
    pub method: &'static str,
    pub params: Value,
    /// For an edit: the call whose message it edits. The sender fills in
    /// that message's id once it is known (the message may not exist yet
    /// when the edit is queued).
    pub edit_of: Option<i64>,
}

impl NewCall {
    /// A call that edits nothing.
    pub fn new(chat_id: i64, method: &'static str, params: Value) -> Self {
        Self {
            chat_id,
            method,
            params,
            edit_of: None,
        }
    }

    /// An edit of the message that call `of` sends.
    pub fn edit(chat_id: i64, method: &'static str, params: Value, of: i64) -> Self {
        Self {
            edit_of: Some(of),
            ..Self::new(chat_id, method, params)
        }
    }
}

/// A stored call that is due.
#[derive(Debug, Clone, FromRow)]
pub struct QueuedCall {
    pub id: i64,
    pub chat_id: i64,
    pub method: String,
    pub params: String,
    pub attempts: i64,
    pub created_at: i64,
    /// See [`NewCall::edit_of`].
    pub edit_of: Option<i64>,
}

/// Queues calls inside the caller's transaction (the one that finishes their
/// cause); returns their ids, in order. An edit replaces a pending edit of
/// the same message by the same method: only the newest state of a message
/// is worth sending, and a stream of edits never piles up behind the pace.
pub async fn insert(
    conn: &mut SqliteConnection,
    update_id: Option<i64>,
    calls: &[NewCall],
) -> sqlx::Result<Vec<i64>> {
    let now = now_ms();
    let mut ids = Vec::with_capacity(calls.len());
    for call in calls {
        if let Some(of) = call.edit_of {
            sqlx::query(
                "DELETE FROM outbox WHERE edit_of = ? AND method = ? AND status = 'pending'",
            )
            .bind(of)
            .bind(call.method)
            .execute(&mut *conn)
            .await?;
        }
        let id = sqlx::query(
            "INSERT INTO outbox (chat_id, method, params, update_id, next_attempt_at, created_at, edit_of)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(call.chat_id)
        .bind(call.method)
        .bind(call.params.to_string())
        .bind(update_id)
        .bind(now)
        .bind(now)
        .bind(call.edit_of)
        .execute(&mut *conn)
        .await?
        .last_insert_rowid();
        ids.push(id);
    }
    Ok(ids)
}

/// Queues calls in a transaction of their own (a job's progress, not caused
/// by an update); returns their ids.
pub async fn queue(db: &Db, calls: &[NewCall]) -> sqlx::Result<Vec<i64>> {
    let mut tx = db.begin().await?;
    let ids = insert(&mut tx, None, calls).await?;
    tx.commit().await?;
    Ok(ids)
}

/// The message a sent call made: `Some(None)` when the call is pending,
/// `None` when it is gone (pruned) or never made a message (dead).
pub async fn message_of(db: &Db, id: i64) -> sqlx::Result<Option<Option<i64>>> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT status, message_id FROM outbox WHERE id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(match row {
        Some((status, message)) if status == "pending" => Some(message),
        Some((status, Some(message))) if status == "sent" => Some(Some(message)),
        _ => None,
    })
}

/// The oldest pending call of each chat, when it is due at `now`: calls to
/// one chat go out strictly in order, calls to different chats independently.
pub async fn due_heads(db: &Db, now: i64, limit: i64) -> sqlx::Result<Vec<QueuedCall>> {
    sqlx::query_as(
        "SELECT o.id, o.chat_id, o.method, o.params, o.attempts, o.created_at, o.edit_of FROM outbox o
         WHERE o.status = 'pending' AND o.next_attempt_at <= ?
           AND o.id = (SELECT MIN(p.id) FROM outbox p
                       WHERE p.chat_id = o.chat_id AND p.status = 'pending')
         ORDER BY o.id LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A chat's oldest pending call and when it is due.
type Head = (i64, i64, String, String, i64, i64, Option<i64>, i64);

/// The oldest pending call to `chat_id`, if it is due at `now`.
pub async fn due_head_of(db: &Db, chat_id: i64, now: i64) -> sqlx::Result<Option<QueuedCall>> {
    sqlx::query_as(
        "SELECT id, chat_id, method, params, attempts, created_at, edit_of, next_attempt_at
         FROM outbox WHERE chat_id = ? AND status = 'pending' ORDER BY id LIMIT 1",
    )
    .bind(chat_id)
    .fetch_optional(db)
    .await
    .map(|head: Option<Head>| {
        head.filter(|h| h.7 <= now).map(
            |(id, chat_id, method, params, attempts, created_at, edit_of, _)| QueuedCall {
                id,
                chat_id,
                method,
                params,
                attempts,
                created_at,
                edit_of,
            },
        )
    })
}

/// When the next pending call becomes due (unix ms), if any is pending.
pub async fn next_due_at(db: &Db) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")
        .fetch_one(db)
        .await
}

/// Holds every pending call to `chat_id` until `until` (a 429's wait): it is
/// stored with the calls, so it outlasts a restart.
pub async fn hold_chat(db: &Db, chat_id: i64, until: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = max(next_attempt_at, ?)
         WHERE chat_id = ? AND status = 'pending'",
    )
    .bind(until)
    .bind(chat_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Holds every pending call until `until` (a 429 of the overall limit).
pub async fn hold_all(db: &Db, until: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = max(next_attempt_at, ?) WHERE status = 'pending'",
    )
    .bind(until)
    .execute(db)
    .await
    .map(|_| ())
}

/// Confirms a call as sent, with the message it made (for later edits); its
/// parameters (message texts) are dropped.
pub async fn mark_sent(db: &Db, id: i64, message_id: Option<i64>) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET status = 'sent', sent_at = ?, params = '{}', attempts = attempts + 1, message_id = ? WHERE id = ?")
        .bind(now_ms())
        .bind(message_id)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Schedules another attempt at `at` (unix ms).
pub async fn retry_at(db: &Db, id: i64, at: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?")
        .bind(at)
        .bind(error)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Gives up on a call: it is kept, with the reason, as a dead letter.
pub async fn mark_dead(db: &Db, id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?",
    )
    .bind(error)
    .bind(id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Calls not yet confirmed sent.
pub async fn count_pending(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        .fetch_one(db)
        .await
}

/// Counts dead letters from the partial index `outbox_dead` alone (/status
/// and every scrape of /metrics ask), never reading the outbox itself.
const COUNT_DEAD: &str = "SELECT COUNT(*) FROM outbox WHERE status = 'dead'";

/// Calls given up on.
pub async fn count_dead(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar(COUNT_DEAD).fetch_one(db).await
}

/// A stored call as `telegate outbox` lists it (without its parameters,
/// which hold message texts).
#[derive(Debug, Clone, FromRow)]
pub struct Listed {
    pub id: i64,
    pub chat_id: i64,
    pub method: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

/// Pending calls (or, with `dead`, the dead letters), oldest first.
pub async fn list(db: &Db, dead: bool) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(
        "SELECT id, chat_id, method, attempts, next_attempt_at, last_error, created_at
         FROM outbox WHERE status = ? ORDER BY id",
    )
    .bind(if dead { "dead" } else { "pending" })
    .fetch_all(db)
    .await
}

/// Puts a dead letter back in the queue, as if new. Returns false when `id`
/// is not a dead letter.
pub async fn requeue(conn: &mut SqliteConnection, id: i64, now: i64) -> sqlx::Result<bool> {
    let requeued = sqlx::query(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?,
                created_at = ?, last_error = NULL
         WHERE id = ? AND status = 'dead'",
    )
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(requeued > 0)
}

/// Queues one call outside any update (a notification); returns its id.
pub async fn insert_one(conn: &mut SqliteConnection, call: &NewCall) -> sqlx::Result<i64> {
    insert(&mut *conn, None, std::slice::from_ref(call)).await?;
    sqlx::query_scalar("SELECT last_insert_rowid()")
        .fetch_one(conn)
        .await
}

/// A call's status (`pending`, `sent`, `dead`) and last error.
pub async fn status(db: &Db, id: i64) -> sqlx::Result<Option<(String, Option<String>)>> {
    sqlx::query_as("SELECT status, last_error FROM outbox WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_dead_letter_count_reads_an_index_not_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {COUNT_DEAD}"
        )))
        .fetch_all(&db)
        .await
        .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|row| row.3).collect();
        assert!(
            plan.iter()
                .any(|step| step.contains("USING COVERING INDEX outbox_dead")),
            "{plan:?}"
        );
        assert_eq!(count_dead(&db).await.unwrap(), 0);
    }
}
