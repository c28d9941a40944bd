//! The `jobs` table: the relay's runs, each a row from before its program
//! starts to after it ended. Every change of state is one operation here,
//! with the calls and the audit row it causes in the same transaction.

use sqlx::{FromRow, SqliteConnection};

use super::{
    Db,
    audit::{self, Entry},
    now_ms,
    outbox::{self, NewCall},
};

/// A job's state. `Queued` and `Running` are live; the rest are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Queued,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    Interrupted,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// How a person reads it ("timed out").
    pub fn label(text: &str) -> String {
        text.replace('_', " ")
    }
}

/// A run about to start.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub command: &'a str,
    pub user_id: i64,
    pub chat_id: i64,
    pub shown: &'a str,
    /// The outbox row of its status message.
    pub status_call: i64,
}

/// Writes a queued job inside the caller's transaction (the one that
/// finishes the update that asked for it); returns its id.
pub async fn create(conn: &mut SqliteConnection, job: &NewJob<'_>) -> sqlx::Result<i64> {
    let id = sqlx::query(
        "INSERT INTO jobs (command, user_id, chat_id, shown, status_call, created_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(job.command)
    .bind(job.user_id)
    .bind(job.chat_id)
    .bind(job.shown)
    .bind(job.status_call)
    .bind(now_ms())
    .execute(conn)
    .await?
    .last_insert_rowid();
    Ok(id)
}

/// The program runs, as process group `pgid`.
pub async fn started(db: &Db, id: i64, pgid: i32) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'running', pgid = ?, started_at = ? WHERE id = ? AND state = 'queued'",
    )
    .bind(pgid)
    .bind(now_ms())
    .bind(id)
    .execute(db)
    .await
    .map(|_| ())
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Ended {
    pub state: State,
    /// "exit code 0", "killed by SIGTERM", or why it did not start.
    pub exit: String,
    pub output_bytes: i64,
}

/// Ends a live job in one transaction: its row, the calls that show the end
/// (the status edit, the output document) and its audit row. Returns false
/// (and changes nothing) when the job had ended already.
pub async fn finish(
    db: &Db,
    id: i64,
    ended: &Ended,
    calls: &[NewCall],
    entry: &Entry,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE jobs SET state = ?, exit = ?, output_bytes = ?, ended_at = ?, pgid = NULL
         WHERE id = ? AND state IN ('queued', 'running')",
    )
    .bind(ended.state.as_str())
    .bind(&ended.exit)
    .bind(ended.output_bytes)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    outbox::insert(&mut tx, None, calls).await?;
    audit::insert(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(true)
}

/// A job as listed.
#[derive(Debug, Clone, FromRow)]
pub struct Job {
    pub id: i64,
    pub command: String,
    pub user_id: i64,
    pub chat_id: i64,
    pub shown: String,
    pub state: String,
    pub pgid: Option<i64>,
    pub status_call: Option<i64>,
    pub exit: Option<String>,
    pub output_bytes: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
}

const COLUMNS: &str = "id, command, user_id, chat_id, shown, state, pgid, status_call, exit, \
                       output_bytes, created_at, started_at, ended_at";

/// Jobs still queued or running, oldest first (at start: the ones a
/// stopped telegate left behind).
pub async fn live(db: &Db) -> sqlx::Result<Vec<Job>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE state IN ('queued', 'running') ORDER BY id"
    )))
    .fetch_all(db)
    .await
}

/// The newest `limit` jobs, of `user` when given, live ones only with
/// `live_only`; newest first.
pub async fn recent(
    db: &Db,
    user: Option<i64>,
    live_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<Job>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs
         WHERE (?1 IS NULL OR user_id = ?1) AND (?2 = 0 OR state IN ('queued', 'running'))
         ORDER BY id DESC LIMIT ?3"
    )))
    .bind(user)
    .bind(live_only)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One job.
pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Job>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}
