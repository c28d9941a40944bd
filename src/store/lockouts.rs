//! The brute-force guard in front of enrolment and /auth: the
//! `enrolment_requests`, `passcode_failures` and `lockouts` tables.

use sqlx::{FromRow, SqliteConnection};

use super::Db;

/// A lockout in force.
#[derive(Debug, Clone, FromRow)]
pub struct Lockout {
    pub user_id: i64,
    /// Unix milliseconds.
    pub until: i64,
}

/// Records that the user was asked for the passcode.
pub async fn ask(conn: &mut SqliteConnection, user_id: i64, at: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO enrolment_requests (user_id, asked_at) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET asked_at = excluded.asked_at",
    )
    .bind(user_id)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn was_asked(db: &Db, user_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM enrolment_requests WHERE user_id = ?)")
        .bind(user_id)
        .fetch_one(db)
        .await
}

/// When the user's lockout ends (unix ms), if one is in force at `now`.
pub async fn locked_until(db: &Db, user_id: i64, now: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT until FROM lockouts WHERE user_id = ? AND until > ?")
        .bind(user_id)
        .bind(now)
        .fetch_optional(db)
        .await
}

/// How many wrong passcodes the user sent after `since` (unix ms).
pub async fn failures_since(db: &Db, user_id: i64, since: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM passcode_failures WHERE user_id = ? AND at > ?")
        .bind(user_id)
        .bind(since)
        .fetch_one(db)
        .await
}

/// Records a wrong passcode, and forgets those older than `forget_before`.
pub async fn fail(
    conn: &mut SqliteConnection,
    user_id: i64,
    now: i64,
    forget_before: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO passcode_failures (user_id, at) VALUES (?, ?)")
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM passcode_failures WHERE at <= ?")
        .bind(forget_before)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Locks the user out until `until`; its failures start over afterwards.
pub async fn lock_out(conn: &mut SqliteConnection, user_id: i64, until: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO lockouts (user_id, until) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET until = excluded.until",
    )
    .bind(user_id)
    .bind(until)
    .execute(&mut *conn)
    .await?;
    forget_failures(conn, user_id).await
}

/// Clears the user's wrong passcodes (after enrolment, or once locked out).
pub async fn forget_failures(conn: &mut SqliteConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM passcode_failures WHERE user_id = ?")
        .bind(user_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Lockouts still in force at `now`, soonest end first.
pub async fn in_force(db: &Db, now: i64) -> sqlx::Result<Vec<Lockout>> {
    sqlx::query_as("SELECT user_id, until FROM lockouts WHERE until > ? ORDER BY until")
        .bind(now)
        .fetch_all(db)
        .await
}

/// Lifts a lockout and forgets the user's wrong codes. Returns whether one
/// was in force.
pub async fn unlock(conn: &mut SqliteConnection, user_id: i64, now: i64) -> sqlx::Result<bool> {
    let lifted = sqlx::query("DELETE FROM lockouts WHERE user_id = ? AND until > ?")
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    forget_failures(conn, user_id).await?;
    Ok(lifted > 0)
}

/// How many wrong enrolment passcodes anyone sent after `since`.
pub async fn wrong_passcodes_since(db: &Db, since: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM enrolment_wrong WHERE at > ?")
        .bind(since)
        .fetch_one(db)
        .await
}

/// Counts a wrong enrolment passcode towards the overall budget, and
/// forgets those older than `forget_before`.
pub async fn wrong_passcode(
    conn: &mut SqliteConnection,
    now: i64,
    forget_before: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO enrolment_wrong (at) VALUES (?)")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM enrolment_wrong WHERE at <= ?")
        .bind(forget_before)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Pauses enrolment for everyone until `until`.
pub async fn pause_enrolment(conn: &mut SqliteConnection, until: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO enrolment_pause (id, until) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET until = excluded.until",
    )
    .bind(until)
    .execute(conn)
    .await
    .map(|_| ())
}

/// When the pause of enrolment ends, if one is in force at `now`.
pub async fn enrolment_paused_until(db: &Db, now: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT until FROM enrolment_pause WHERE id = 1 AND until > ?")
        .bind(now)
        .fetch_optional(db)
        .await
}
