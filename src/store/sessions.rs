//! The `sessions` and `totp_last_step` tables: who proved a second factor
//! recently enough to run sensitive commands.

use sqlx::{FromRow, SqliteConnection};

use super::Db;

/// An open session, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct Session {
    pub user_id: i64,
    /// Unix milliseconds.
    pub opened_at: i64,
    pub last_active: i64,
}

pub async fn get(db: &Db, user_id: i64) -> sqlx::Result<Option<Session>> {
    sqlx::query_as("SELECT user_id, opened_at, last_active FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Opens (or reopens) the user's session at `now`; `how` is `totp` or `passcode`.
pub async fn open(
    conn: &mut SqliteConnection,
    user_id: i64,
    how: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (user_id, how, opened_at, last_active) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET how = excluded.how,
             opened_at = excluded.opened_at, last_active = excluded.last_active",
    )
    .bind(user_id)
    .bind(how)
    .bind(now)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Slides the inactivity timeout forward.
pub async fn touch(conn: &mut SqliteConnection, user_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET last_active = max(last_active, ?) WHERE user_id = ?")
        .bind(now)
        .bind(user_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Closes the user's session. Returns whether one was open.
pub async fn close(conn: &mut SqliteConnection, user_id: i64) -> sqlx::Result<bool> {
    let closed = sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(closed > 0)
}

/// Closes every session idle since before `idle_before` or opened before
/// `opened_before`, and returns whose they were.
pub async fn close_expired(
    conn: &mut SqliteConnection,
    idle_before: i64,
    opened_before: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "DELETE FROM sessions WHERE last_active < ? OR opened_at < ? RETURNING user_id",
    )
    .bind(idle_before)
    .bind(opened_before)
    .fetch_all(conn)
    .await
}

/// The TOTP step accepted last, if any.
pub async fn last_totp_step(db: &Db) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT step FROM totp_last_step WHERE id = 1")
        .fetch_optional(db)
        .await
}

/// Records an accepted TOTP step. Returns false (and changes nothing) when
/// that step or a later one was recorded already.
pub async fn use_totp_step(conn: &mut SqliteConnection, step: i64) -> sqlx::Result<bool> {
    let recorded = sqlx::query(
        "INSERT INTO totp_last_step (id, step) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET step = excluded.step WHERE step < excluded.step",
    )
    .bind(step)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(recorded > 0)
}
