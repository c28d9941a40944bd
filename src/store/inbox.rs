//! The `inbox` table: updates as Telegram delivered them, until handled.

use std::collections::HashSet;

use sqlx::{FromRow, QueryBuilder, SqliteConnection};

use super::{Db, now_ms};

/// An update accepted by the webhook, about to be stored.
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub update_id: i64,
    pub kind: String,
    pub chat_key: Option<i64>,
    pub payload: String,
}

/// An update waiting to be handled (its payload is read when its turn comes).
#[derive(Debug, Clone, FromRow)]
pub struct PendingUpdate {
    pub update_id: i64,
    pub kind: String,
    pub chat_key: Option<i64>,
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

/// Stores a batch in one statement (one transaction). For each update,
/// `true` when it was stored and `false` when its update_id was already
/// there (a redelivery).
pub async fn insert_batch(db: &Db, updates: &[&NewUpdate]) -> sqlx::Result<Vec<bool>> {
    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let mut insert =
        QueryBuilder::new("INSERT INTO inbox (update_id, kind, chat_key, payload, received_at) ");
    insert.push_values(updates, |mut row, u| {
        row.push_bind(u.update_id)
            .push_bind(&u.kind)
            .push_bind(u.chat_key)
            .push_bind(&u.payload)
            .push_bind(now);
    });
    insert.push(" ON CONFLICT (update_id) DO NOTHING RETURNING update_id");
    // The 200 tells Telegram it may forget the update: this commit is fsynced.
    let mut conn = db.acquire().await?;
    sqlx::query("PRAGMA synchronous = FULL")
        .execute(&mut *conn)
        .await?;
    let inserted: sqlx::Result<Vec<i64>> = insert.build_query_scalar().fetch_all(&mut *conn).await;
    sqlx::query("PRAGMA synchronous = NORMAL")
        .execute(&mut *conn)
        .await?;
    let new: HashSet<i64> = inserted?.into_iter().collect();
    // Within one batch the same id twice: the first one is the stored one.
    let mut seen = HashSet::new();
    Ok(updates
        .iter()
        .map(|u| new.contains(&u.update_id) && seen.insert(u.update_id))
        .collect())
}

/// How far the worker looks ahead, and how much of that one chat may take.
#[derive(Debug, Clone, Copy)]
pub struct Scan {
    /// Pending updates looked at, oldest first.
    pub window: i64,
    /// At most this many of them from one chat...
    pub per_chat: i64,
    /// ...and this many in all.
    pub limit: i64,
}

/// Pending updates in update_id order, from the oldest `scan.window`, at
/// most `scan.per_chat` of any one chat: a chat with a backlog leaves room
/// for the chats behind it. The window keeps the cost of a scan bounded
/// however long the backlog is. Chats in `busy` (being worked on) are left
/// out before the window is taken, so a scan costs nothing for updates that
/// could not be started anyway.
pub async fn pending(
    db: &Db,
    scan: Scan,
    busy: &HashSet<Option<i64>>,
) -> sqlx::Result<Vec<PendingUpdate>> {
    // One statement text whatever is busy (one prepared statement): the busy
    // chats go in as a JSON array; `NOT IN` is never true for a NULL
    // chat_key, so whether those are busy is a flag of its own.
    let chats: Vec<i64> = busy.iter().flatten().copied().collect();
    let chats = serde_json::to_string(&chats).unwrap_or_else(|_| "[]".to_owned());
    sqlx::query_as(
        "SELECT update_id, kind, chat_key, attempts FROM inbox WHERE update_id IN (
             SELECT update_id FROM (
                 SELECT update_id,
                        row_number() OVER (PARTITION BY chat_key ORDER BY update_id) AS nth
                 FROM (SELECT update_id, chat_key FROM inbox
                       WHERE status = 'pending'
                         AND (chat_key IS NULL
                              OR chat_key NOT IN (SELECT value FROM json_each(?)))
                         AND (chat_key IS NOT NULL OR NOT ?)
                       ORDER BY update_id LIMIT ?))
             WHERE nth <= ? ORDER BY update_id LIMIT ?)
         ORDER BY update_id",
    )
    .bind(chats)
    .bind(busy.contains(&None))
    .bind(scan.window)
    .bind(scan.per_chat)
    .bind(scan.limit)
    .fetch_all(db)
    .await
}

/// The raw update, while it is pending.
pub async fn payload(db: &Db, update_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT payload FROM inbox WHERE update_id = ? AND status = 'pending'")
        .bind(update_id)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}

/// Counts one more attempt (`by` = 1) before handling starts, so an update
/// that kills the process every time is still given up on after a few
/// restarts; `by` = -1 takes back an attempt that never started.
pub async fn count_attempt(
    conn: &mut SqliteConnection,
    update_id: i64,
    by: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE inbox SET attempts = attempts + ? WHERE update_id = ?")
        .bind(by)
        .bind(update_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Marks an update finished and drops its payload, however it ended: a
/// message text (a passcode, say) is not kept once the update is over, also
/// when handling it failed. Its kind, chat and error stay.
pub async fn finish(
    conn: &mut SqliteConnection,
    update_id: i64,
    how: Finish,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE inbox SET status = ?, finished_at = ?, last_error = ?, payload = NULL
         WHERE update_id = ?",
    )
    .bind(how.as_str())
    .bind(now_ms())
    .bind(error)
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

/// The highest update_id stored, if any.
pub async fn last_update_id(db: &Db) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MAX(update_id) FROM inbox")
        .fetch_one(db)
        .await
}

/// How many updates wait to be handled.
pub async fn count_pending(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE status = 'pending'")
        .fetch_one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(update_id: i64) -> NewUpdate {
        NewUpdate {
            update_id,
            kind: "message".into(),
            chat_key: Some(1),
            payload: format!(r#"{{"update_id":{update_id}}}"#),
        }
    }

    #[tokio::test]
    async fn a_batch_stores_each_update_id_once_and_tells_which_were_new() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        let (one, two) = (update(1), update(2));
        assert_eq!(insert_batch(&db, &[&one]).await.unwrap(), [true]);
        let stored = insert_batch(&db, &[&two, &one, &two]).await.unwrap();
        assert_eq!(stored, [true, false, false]);
        assert_eq!(count_pending(&db).await.unwrap(), 2);
        assert_eq!(insert_batch(&db, &[]).await.unwrap(), Vec::<bool>::new());
    }

    #[tokio::test]
    async fn the_scan_leaves_out_busy_chats_and_keeps_updates_without_a_chat() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        let of = |update_id, chat_key| NewUpdate {
            chat_key,
            ..update(update_id)
        };
        let stored = [of(1, Some(7)), of(2, None), of(3, Some(8)), of(4, Some(7))];
        insert_batch(&db, &stored.iter().collect::<Vec<_>>())
            .await
            .unwrap();
        let scan = Scan {
            window: 10,
            per_chat: 10,
            limit: 10,
        };
        let ids = |busy: &[Option<i64>]| {
            let busy: HashSet<Option<i64>> = busy.iter().copied().collect();
            let db = db.clone();
            async move {
                let found = pending(&db, scan, &busy).await.unwrap();
                found.iter().map(|u| u.update_id).collect::<Vec<_>>()
            }
        };

        assert_eq!(ids(&[]).await, [1, 2, 3, 4]);
        assert_eq!(ids(&[Some(7)]).await, [2, 3]);
        assert_eq!(ids(&[None]).await, [1, 3, 4]);
        assert_eq!(ids(&[None, Some(7), Some(8)]).await, Vec::<i64>::new());
    }
}
