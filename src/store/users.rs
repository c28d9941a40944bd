//! The `users`, `enrolment_requests`, `passcode_failures` and `lockouts`
//! tables: who enrolled at run time, and the brute-force guard in front of it.

use sqlx::SqliteConnection;

use super::Db;

/// Whether `user_id` enrolled with the passcode.
pub async fn is_enrolled(db: &Db, user_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE user_id = ?)")
        .bind(user_id)
        .fetch_one(db)
        .await
}

pub async fn enrol(
    conn: &mut SqliteConnection,
    user_id: i64,
    how: &str,
    at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (user_id, how, enrolled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(how)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM enrolment_requests WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    forget_failures(conn, user_id).await
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
async fn forget_failures(conn: &mut SqliteConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM passcode_failures WHERE user_id = ?")
        .bind(user_id)
        .execute(conn)
        .await
        .map(|_| ())
}
