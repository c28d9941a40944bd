//! The `audit` table: one row per decision about an update.

use sqlx::{FromRow, SqliteConnection};

use super::{Db, now_ms};

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
}

pub async fn insert(conn: &mut SqliteConnection, entry: &Entry) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, update_id, kind, chat_id, user_id, command, decision, outcome)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(now_ms())
    .bind(entry.update_id)
    .bind(&entry.kind)
    .bind(entry.chat_id)
    .bind(entry.user_id)
    .bind(&entry.command)
    .bind(entry.decision.as_str())
    .bind(&entry.outcome)
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
