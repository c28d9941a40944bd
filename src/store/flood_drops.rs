//! The `flood_drops` table: updates the flood limit dropped, counted per user
//! until housekeeping writes them to the audit trail as one row.

use sqlx::{FromRow, SqliteConnection};

use super::{
    Db,
    audit::{self, Decision, Entry},
};

/// Users whose drops are written to the audit trail in one transaction.
const USERS_PER_FLUSH: i64 = 1000;

/// One user's drops since the last flush.
#[derive(Debug, Clone, FromRow)]
pub struct Tally {
    pub user_id: i64,
    pub dropped: i64,
    pub first_update: i64,
    pub last_update: i64,
    /// Unix milliseconds.
    pub first_at: i64,
    pub last_at: i64,
}

/// Counts one dropped update, inside the transaction that finishes it.
pub async fn count(
    conn: &mut SqliteConnection,
    user_id: i64,
    update_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO flood_drops (user_id, dropped, first_update, last_update, first_at, last_at)
         VALUES (?1, 1, ?2, ?2, ?3, ?3)
         ON CONFLICT (user_id) DO UPDATE SET dropped = dropped + 1,
             first_update = min(first_update, excluded.first_update),
             last_update = max(last_update, excluded.last_update),
             last_at = max(last_at, excluded.last_at)",
    )
    .bind(user_id)
    .bind(update_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Writes each user's tally as one audit row and forgets it, a bounded
/// number of users per transaction. `limit` is INBOUND_LIMIT_PER_MIN, for
/// the row's words. Returns the drops written.
pub async fn flush(db: &Db, limit: usize) -> sqlx::Result<i64> {
    let mut written = 0;
    loop {
        let mut tx = db.begin().await?;
        let tallies: Vec<Tally> =
            sqlx::query_as("SELECT * FROM flood_drops ORDER BY first_at, user_id LIMIT ?")
                .bind(USERS_PER_FLUSH)
                .fetch_all(&mut *tx)
                .await?;
        for tally in &tallies {
            audit::insert(&mut tx, &tally.entry(limit)).await?;
            sqlx::query("DELETE FROM flood_drops WHERE user_id = ?")
                .bind(tally.user_id)
                .execute(&mut *tx)
                .await?;
            written += tally.dropped;
        }
        tx.commit().await?;
        if i64::try_from(tallies.len()).unwrap_or(i64::MAX) < USERS_PER_FLUSH {
            return Ok(written);
        }
        tokio::task::yield_now().await;
    }
}

impl Tally {
    /// The audit row that accounts for these drops.
    pub fn entry(&self, limit: usize) -> Entry {
        Entry::event(
            "flood",
            Some(self.user_id),
            Decision::Refused,
            format!(
                "dropped {} update(s) over {limit} a minute: update ids {} to {}, {} to {} UTC",
                self.dropped,
                self.first_update,
                self.last_update,
                crate::timefmt::utc(self.first_at),
                crate::timefmt::utc(self.last_at),
            ),
        )
    }
}
