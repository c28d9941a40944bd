//! Wiping secrets from the database files, retried until it has worked.
//!
//! After an update that carried a secret (a passcode, an /auth code) is
//! finished, its old pages must leave the WAL: a checkpoint that truncates
//! it. A reader on an old snapshot (a backup in progress, a CLI command)
//! keeps that checkpoint from finishing; the secret would then stay in the
//! file until some later scrub. So a scrub that did not finish is retried,
//! with backoff, until one does.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::{self, Db};

/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct Scrubber {
    db: Db,
    /// A scrub is owed.
    due: AtomicBool,
    wake: Notify,
}

impl Scrubber {
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Self {
            db,
            due: AtomicBool::new(false),
            wake: Notify::new(),
        })
    }

    /// Scrubs on `conn` now (the connection that just committed, so nothing
    /// reads the files in between); when that cannot finish, [`Self::run`]
    /// tries again.
    pub async fn now(&self, conn: &mut sqlx::SqliteConnection) {
        match store::scrub(conn).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    "a reader keeps the WAL from being truncated, so a secret's old copy is still in it; retrying until it is gone"
                );
                self.later();
            }
            Err(e) => {
                tracing::warn!(error = %e, "wiping a secret from the database files failed; retrying");
                self.later();
            }
        }
    }

    /// Asks the retry task for a scrub.
    pub fn later(&self) {
        self.due.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Retries owed scrubs until `cancel` fires.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.wake.notified() => {}
            }
            let mut backoff = Duration::from_millis(100);
            while self.due.swap(false, Ordering::SeqCst) {
                match store::scrub_db(&self.db).await {
                    Ok(true) => {
                        tracing::info!("the database files hold no old copy of a secret any more");
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => tracing::debug!(error = %e, "scrub failed; retrying"),
                }
                self.due.store(true, Ordering::SeqCst);
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
