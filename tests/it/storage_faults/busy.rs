//! A write lock held by another process (a CLI command, a backup tool)
//! for longer than serve's busy timeout (5 s): SQLITE_BUSY.

use std::str::FromStr;

use sqlx::{
    Connection, SqliteConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
};
use telegate::standin::StandIn;

use super::{Run, start};
use crate::support::{BOT_USERNAME, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_past_the_busy_timeout_answers_503_says_so_and_recovers_once_released() {
    let dir = tempfile::tempdir().unwrap();
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let served = start(&standin, dir.path(), &[], |_| {});
    let mut run = Run::new(standin, served);
    run.working().await;

    // The fault itself: held while serve's writes wait out their busy
    // timeout and fail, released once that has been seen.
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(dir.path().join("telegate.db"))
        .journal_mode(SqliteJournalMode::Wal);
    let mut holder = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    run.until_refused().await;
    run.failing("database is locked", "busy").await;

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    run.recovers().await;
}
