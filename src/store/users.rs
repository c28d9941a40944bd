//! The `users` table: who was let in at run time, with which role, how and
//! by whom. (BOT_OWNER_ID and ALLOWED_CHAT_IDS come from the configuration
//! and are not stored.)

use sqlx::{FromRow, SqliteConnection};

use super::Db;

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct User {
    pub user_id: i64,
    /// `user` or `owner`.
    pub role: String,
    /// `passcode`, `chat` (an owner's /allow) or `cli`.
    pub how: String,
    pub by_user: Option<i64>,
    /// Unix milliseconds.
    pub enrolled_at: i64,
}

/// How a user came to be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Passcode,
    /// By an owner's /allow in chat.
    Chat {
        by: i64,
    },
    Cli,
}

impl How {
    fn parts(self) -> (&'static str, Option<i64>) {
        match self {
            Self::Passcode => ("passcode", None),
            Self::Chat { by } => ("chat", Some(by)),
            Self::Cli => ("cli", None),
        }
    }
}

/// The role of a stored user, if there is one.
pub async fn role(db: &Db, user_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT role FROM users WHERE user_id = ?")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Every stored user, in the order they came.
pub async fn list(db: &Db) -> sqlx::Result<Vec<User>> {
    sqlx::query_as("SELECT * FROM users ORDER BY enrolled_at, user_id")
        .fetch_all(db)
        .await
}

/// Stores a user with `role`, or changes the role of one already stored
/// (keeping how and when they came). Returns the role they had before.
pub async fn allow(
    conn: &mut SqliteConnection,
    user_id: i64,
    role: &str,
    how: How,
    at: i64,
) -> sqlx::Result<Option<String>> {
    let before: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE user_id = ?")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    let (how, by) = how.parts();
    sqlx::query(
        "INSERT INTO users (user_id, role, how, by_user, enrolled_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(user_id)
    .bind(role)
    .bind(how)
    .bind(by)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM enrolment_requests WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    super::lockouts::forget_failures(conn, user_id).await?;
    Ok(before)
}

/// Removes a stored user and closes their session. Returns whether they were stored.
pub async fn revoke(conn: &mut SqliteConnection, user_id: i64) -> sqlx::Result<bool> {
    let removed = sqlx::query("DELETE FROM users WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    super::sessions::close(conn, user_id).await?;
    Ok(removed > 0)
}
