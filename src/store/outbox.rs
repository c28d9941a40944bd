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
}

/// Queues calls inside the caller's transaction (the one that finishes their cause).
pub async fn insert(
    conn: &mut SqliteConnection,
    update_id: Option<i64>,
    calls: &[NewCall],
) -> sqlx::Result<()> {
    let now = now_ms();
    for call in calls {
        sqlx::query(
            "INSERT INTO outbox (chat_id, method, params, update_id, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(call.chat_id)
        .bind(call.method)
        .bind(call.params.to_string())
        .bind(update_id)
        .bind(now)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The oldest pending call of each chat, when it is due at `now`: calls to
/// one chat go out strictly in order, calls to different chats independently.
pub async fn due_heads(db: &Db, now: i64, limit: i64) -> sqlx::Result<Vec<QueuedCall>> {
    sqlx::query_as(
        "SELECT o.id, o.chat_id, o.method, o.params, o.attempts, o.created_at FROM outbox o
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

/// The oldest pending call to `chat_id`, if it is due at `now`.
pub async fn due_head_of(db: &Db, chat_id: i64, now: i64) -> sqlx::Result<Option<QueuedCall>> {
    sqlx::query_as(
        "SELECT id, chat_id, method, params, attempts, created_at, next_attempt_at FROM outbox
         WHERE chat_id = ? AND status = 'pending' ORDER BY id LIMIT 1",
    )
    .bind(chat_id)
    .fetch_optional(db)
    .await
    .map(|head: Option<(i64, i64, String, String, i64, i64, i64)>| {
        head.filter(|h| h.6 <= now)
            .map(
                |(id, chat_id, method, params, attempts, created_at, _)| QueuedCall {
                    id,
                    chat_id,
                    method,
                    params,
                    attempts,
                    created_at,
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

/// Confirms a call as sent; its parameters (message texts) are dropped.
pub async fn mark_sent(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET status = 'sent', sent_at = ?, params = '{}', attempts = attempts + 1 WHERE id = ?")
        .bind(now_ms())
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
