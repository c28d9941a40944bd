//! SQLite storage: one module per table, SQL nowhere else.

pub mod audit;
pub mod audit_chain;
pub mod flood_drops;
pub mod inbox;
pub mod lock;
pub mod lockouts;
pub mod outbox;
pub mod retention;
pub mod sessions;
pub mod users;

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use anyhow::Context;
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::MIGRATOR;

/// The database handle shared by every component.
pub type Db = SqlitePool;

/// Opens (creating when missing) the database file and applies the migrations.
///
/// Durability: in WAL mode a `synchronous=NORMAL` commit survives a crash of
/// the process but not a power cut, and a `FULL` commit survives both (one
/// fsync of the WAL, which also makes every commit before it durable). The
/// connection runs at NORMAL; the inbox insert, whose 200 tells Telegram it
/// may forget the update, switches to FULL for its own statement
/// ([`inbox::insert_batch`]). So an acknowledged update is never lost, and
/// the worker's and sender's bookkeeping rides on the next fsync: after a
/// power cut the worst case is a reply handled or sent twice.
pub async fn open(path: &Path) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        // Freed space is zeroed, so a handled payload leaves no trace in the file.
        .pragma("secure_delete", "on");
    // One connection: SQLite writes one transaction at a time anyway, and
    // with several connections a writer that finds the database locked
    // sleeps in the busy handler instead of queueing. The pool's queue is
    // first come, first served, so the webhook's batches and the worker
    // take turns without stalls.
    let db = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    MIGRATOR
        .run(&db)
        .await
        .with_context(|| format!("cannot apply the migrations to {}", path.display()))?;
    Ok(db)
}

/// A read-only pool on the same file, for the worker's reads: under WAL they
/// run beside the writer instead of queueing behind it.
pub async fn open_reader(path: &Path) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .read_only(true)
        .busy_timeout(Duration::from_secs(5));
    SqlitePoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {} for reading", path.display()))
}

/// Wipes old versions of pages that may still hold a secret (a passcode in a
/// handled update's payload): with secure_delete the main file holds none once
/// the WAL is checkpointed, and the WAL is then truncated to nothing.
pub async fn scrub(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<()> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(conn)
        .await
        .map(|_| ())
}

/// A file beside the database: `telegate.db` + `.lock` → `telegate.db.lock`.
pub fn beside(db_path: &Path, suffix: &str) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Milliseconds since the Unix epoch, the time unit of every table.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Checks that the database answers (for /health).
pub async fn ping(db: &Db) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(db).await.map(|_| ())
}
