//! The audit trail's head (the newest row's id and hash), written to the log
//! at startup, every hour and on shutdown. The hash chain shows a row edited
//! or deleted in the middle, but not its newest rows deleted; a head kept
//! outside the database does: `telegate audit verify --head ID:HASH` fails
//! once the trail no longer reaches it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::{Db, audit_chain};

/// How often the head is logged while serve runs.
pub const EVERY: Duration = Duration::from_secs(3600);

/// The log line's message; kept stable for whoever collects the heads.
pub const MESSAGE: &str = "audit trail head";

/// Logs the head now; `when` says why (startup, hourly, shutdown).
pub async fn log(db: &Db, when: &'static str) {
    match audit_chain::head(db).await {
        Ok(Some(head)) => tracing::info!(head = %head, when, "{MESSAGE}"),
        Ok(None) => tracing::info!(head = "none", when, "{MESSAGE}"),
        Err(e) => tracing::warn!(error = %e, when, "cannot read the audit trail head"),
    }
}

/// Logs the head every `every` until `cancel` fires (shutdown logs it once
/// more, after the last write).
pub async fn run(db: Db, every: Duration, cancel: CancellationToken) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => log(&db, "hourly").await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::store::audit::{self, Decision, Entry};

    /// A log sink the test reads.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn hourly_heads(&self) -> Vec<String> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .filter(|l| l.contains(MESSAGE) && l.contains("when=\"hourly\""))
                .filter_map(|l| l.split("head=").nth(1)?.split(' ').next())
                .map(str::to_owned)
                .collect()
        }
    }

    #[tokio::test]
    async fn the_head_is_logged_again_each_period_and_follows_new_rows() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        let row = Entry::event("test", None, Decision::Allowed, "one".into());
        audit::record(&db, &row).await.unwrap();
        let first = audit_chain::head(&db).await.unwrap().unwrap().to_string();

        let cancel = CancellationToken::new();
        // A short period stands in for the hour; on this thread, so the
        // subscriber above sees its lines.
        let task = run(db.clone(), Duration::from_millis(5), cancel.clone());
        let watch = async {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            while !captured.hourly_heads().contains(&first) {
                assert!(tokio::time::Instant::now() < deadline, "no head logged");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            audit::record(&db, &row).await.unwrap();
            let second = audit_chain::head(&db).await.unwrap().unwrap().to_string();
            while !captured.hourly_heads().contains(&second) {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the new head was not logged"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            cancel.cancel();
        };
        tokio::join!(task, watch);
        db.close().await;
    }
}
