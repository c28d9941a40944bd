//! The end of an upload: its reply and its audit row, written together.

use super::{
    Db,
    audit::{self, Entry},
    outbox::{self, NewCall},
};

/// Queues `calls` and writes `entry` in one transaction.
pub async fn finish(db: &Db, calls: &[NewCall], entry: &Entry) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    outbox::insert(&mut tx, None, calls).await?;
    audit::insert(&mut tx, entry).await?;
    tx.commit().await
}
