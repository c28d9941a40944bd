//! The `audit` table: one row per decision about an update, hash-chained so
//! that a row edited or deleted afterwards is detected (see [`super::audit_chain`]).

use sqlx::{FromRow, SqliteConnection};

use super::{Db, audit_chain, now_ms};

/// What was decided about an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Refused,
    Unsupported,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Refused => "refused",
            Self::Unsupported => "unsupported",
        }
    }
}

/// A row to write. `command` is the command's name only, never its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub update_id: Option<i64>,
    pub kind: String,
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    pub command: Option<String>,
    pub decision: Decision,
    pub outcome: String,
}

/// A stored row.
#[derive(Debug, Clone, FromRow)]
pub struct Row {
    pub id: i64,
    pub at: i64,
    pub update_id: Option<i64>,
    pub kind: String,
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    pub command: Option<String>,
    pub decision: String,
    pub outcome: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Appends a row, chained to the one before it. Call it inside the write
/// transaction, so that no other row can come between.
pub async fn insert(conn: &mut SqliteConnection, entry: &Entry) -> sqlx::Result<()> {
    let prev_hash = audit_chain::last_hash(&mut *conn).await?;
    let at = now_ms();
    let hash = audit_chain::row_hash(
        &prev_hash,
        &audit_chain::Content {
            at,
            update_id: entry.update_id,
            kind: &entry.kind,
            chat_id: entry.chat_id,
            user_id: entry.user_id,
            command: entry.command.as_deref(),
            decision: entry.decision.as_str(),
            outcome: &entry.outcome,
        },
    );
    sqlx::query(
        "INSERT INTO audit (at, update_id, kind, chat_id, user_id, command, decision, outcome, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(at)
    .bind(entry.update_id)
    .bind(&entry.kind)
    .bind(entry.chat_id)
    .bind(entry.user_id)
    .bind(&entry.command)
    .bind(entry.decision.as_str())
    .bind(&entry.outcome)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The rows about one update, oldest first.
pub async fn for_update(db: &Db, update_id: i64) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as("SELECT * FROM audit WHERE update_id = ? ORDER BY id")
        .bind(update_id)
        .fetch_all(db)
        .await
}

/// The newest `n` rows, oldest first.
pub async fn last(db: &Db, n: i64) -> sqlx::Result<Vec<Row>> {
    let mut rows: Vec<Row> = sqlx::query_as("SELECT * FROM audit ORDER BY id DESC LIMIT ?")
        .bind(n)
        .fetch_all(db)
        .await?;
    rows.reverse();
    Ok(rows)
}

/// Rows written at or after `since` (unix ms), about `user` when given,
/// oldest first.
pub async fn query(db: &Db, since: i64, user: Option<i64>) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as("SELECT * FROM audit WHERE at >= ? AND (? IS NULL OR user_id = ?) ORDER BY id")
        .bind(since)
        .bind(user)
        .bind(user)
        .fetch_all(db)
        .await
}

/// Appends one row in a transaction of its own, for decisions that are not
/// about an update (startup, the operator's commands, expired sessions).
pub async fn record(db: &Db, entry: &Entry) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    insert(&mut tx, entry).await?;
    tx.commit().await
}

impl Entry {
    /// A row that is not about an update.
    pub fn event(kind: &str, user_id: Option<i64>, decision: Decision, outcome: String) -> Self {
        Self {
            update_id: None,
            kind: kind.to_owned(),
            chat_id: None,
            user_id,
            command: None,
            decision,
            outcome,
        }
    }
}
