//! SQLite storage: one module per table, SQL nowhere else.

pub mod audit;
pub mod audit_chain;
pub mod fault;
pub mod flood_drops;
pub mod inbox;
pub mod jobs;
pub mod lock;
pub mod lockouts;
pub mod outbox;
pub mod retention;
pub mod schema;
pub mod sessions;
pub mod uploads;
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
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        // Freed space is zeroed, so a handled payload leaves no trace in the file.
        .pragma("secure_delete", "on");
    // Only this first connection may create the file. A connection the
    // pool opens later (replacing one closed after a fault) must fail while
    // the file is gone, not create an empty database in its place that would
    // then answer "ok".
    let created = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(
        &options.clone().create_if_missing(true),
    )
    .await
    .with_context(|| format!("cannot open the database {}", path.display()))?;
    sqlx::Connection::close(created).await?;
    // One connection: SQLite writes one transaction at a time anyway, and
    // with several connections a writer that finds the database locked
    // sleeps in the busy handler instead of queueing. The pool's queue is
    // first come, first served, so the webhook's batches and the worker
    // take turns without stalls.
    let db = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .after_release(|conn, _| Box::pin(async move { Ok(fit_for_reuse(conn).await) }))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    MIGRATOR
        .run(&db)
        .await
        .with_context(|| format!("cannot apply the migrations to {}", path.display()))?;
    Ok(db)
}

/// Whether a connection going back to the pool is fit for the next write:
/// no transaction left open, and its file still where DATABASE_URL says.
///
/// After a failed COMMIT (SQLITE_FULL, say) SQLite keeps the transaction
/// open; a connection reused in that state would do every later write
/// inside a transaction that never commits. And in WAL mode SQLite goes on
/// writing to a file whose directory was moved away, where nothing else
/// finds it. Either way the connection is closed, and the pool opens a new
/// one (which fails, and so stops the writes, while the file is missing).
async fn fit_for_reuse(conn: &mut sqlx::SqliteConnection) -> bool {
    use sqlx::Connection as _;
    // Taking the handle waits for what is queued on the connection first
    // (the rollback of a transaction dropped uncommitted).
    let (open_in_sqlite, moved) = match conn.lock_handle().await {
        Ok(mut handle) => {
            let db = handle.as_raw_handle().as_ptr();
            let mut moved: std::ffi::c_int = 0;
            // SAFETY: the handle is locked, so no other thread uses the
            // sqlite3 pointer while this reads its autocommit flag and asks
            // the main file whether it moved (one stat of its path).
            unsafe {
                let asked = libsqlite3_sys::sqlite3_file_control(
                    db,
                    c"main".as_ptr(),
                    libsqlite3_sys::SQLITE_FCNTL_HAS_MOVED,
                    (&raw mut moved).cast(),
                );
                (
                    libsqlite3_sys::sqlite3_get_autocommit(db) == 0,
                    asked != libsqlite3_sys::SQLITE_OK || moved != 0,
                )
            }
        }
        Err(_) => (true, false),
    };
    if open_in_sqlite || conn.is_in_transaction() {
        warn_replaced(
            "a database connection was left inside a transaction; closing it and opening a new one",
        );
        return false;
    }
    if moved {
        warn_replaced(
            "the database file is no longer where DATABASE_URL says (moved or deleted); writes stop until it is back",
        );
        return false;
    }
    true
}

/// Logs why a connection was replaced, once a minute at most: while the
/// disk is full, every failed try replaces one.
fn warn_replaced(why: &'static str) {
    static LAST_WARNED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let now = now_ms();
    if now - LAST_WARNED.load(std::sync::atomic::Ordering::Relaxed) >= 60_000 {
        LAST_WARNED.store(now, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!("{why}");
    }
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
///
/// Returns whether that happened: a reader still on an old snapshot (a
/// backup, a CLI command) keeps the checkpoint from finishing, and then the
/// old pages are still in the WAL and the scrub must be tried again.
pub async fn scrub(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<bool> {
    // One row: busy (1 when the checkpoint could not finish), the WAL's
    // frames, and the frames checkpointed.
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(conn)
        .await?;
    Ok(busy == 0)
}

/// [`scrub`] on a connection of the pool.
pub async fn scrub_db(db: &Db) -> sqlx::Result<bool> {
    let mut conn = db.acquire().await?;
    scrub(&mut conn).await
}

/// Writes a consistent copy of the database to `target` (a new file) in one
/// read transaction: it works while serve writes.
pub async fn copy_into(db: &Db, target: &str) -> sqlx::Result<()> {
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(db)
        .await
        .map(|_| ())
}

/// Takes the write lock and gives it back without changing anything:
/// whether the database takes writes now.
pub async fn try_write_lock(db: &Db) -> sqlx::Result<()> {
    let mut conn = db.acquire().await?;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    sqlx::query("ROLLBACK")
        .execute(&mut *conn)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks the pool's connection, so a test can tell whether it is the same one.
    async fn mark(db: &Db) {
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS marker (x)")
            .execute(db)
            .await
            .unwrap();
    }

    async fn same_connection(db: &Db) -> bool {
        sqlx::query("SELECT COUNT(*) FROM temp.marker")
            .execute(db)
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_connection_left_inside_a_transaction_is_replaced_by_a_clean_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir.path().join("t.db")).await.unwrap();
        mark(&db).await;
        assert!(same_connection(&db).await, "a clean connection is reused");

        // A transaction sqlx does not know of, as a failed COMMIT leaves one.
        let mut conn = db.acquire().await.unwrap();
        sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
        drop(conn);

        assert!(!same_connection(&db).await, "the connection was replaced");
        // The new one writes outside any transaction: what it writes stays.
        sqlx::query("CREATE TABLE kept (x)")
            .execute(&db)
            .await
            .unwrap();
        db.close().await;
        let db = open(&dir.path().join("t.db")).await.unwrap();
        sqlx::query("SELECT COUNT(*) FROM kept")
            .execute(&db)
            .await
            .expect("committed");
    }
}
