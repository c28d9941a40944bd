//! Periodic chores: close sessions that expired (and audit it), prune
//! audit rows older than AUDIT_RETENTION_DAYS, write the flood limit's drops
//! to the audit trail, and prune what the database keeps no longer
//! (RETENTION_DAYS, and the brute-force guard's windows).

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{
    bot::{Dispatcher, guard::millis},
    store::{
        audit::{self, Decision, Entry},
        audit_chain, flood_drops,
        retention::{self, BATCH, Prunable},
        sessions,
    },
};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// How often the chores run.
pub const EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Housekeeping {
    pub dispatcher: Arc<Dispatcher>,
    /// 0: audit rows are kept forever.
    pub audit_retention_days: u32,
    /// Handled updates and sent calls are kept this many days (dead letters
    /// twice as long); 0: forever.
    pub retention_days: u32,
}

impl Housekeeping {
    /// Runs the chores now and every [`EVERY`] until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            if let Err(e) = self.once().await
                && !self.dispatcher.faults.failed_any("housekeeping", &e)
            {
                tracing::error!(error = %format!("{e:#}"), "housekeeping failed; retrying in a minute");
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(EVERY) => {}
            }
        }
    }

    /// One round of chores.
    pub async fn once(&self) -> anyhow::Result<()> {
        let d = &self.dispatcher;
        let now = d.clock.now_ms();
        let expired = {
            let mut tx = d.db.begin().await?;
            let users = sessions::close_expired(
                &mut tx,
                now - millis(d.step_up.timeout),
                now - millis(d.step_up.max_age),
            )
            .await?;
            for user in &users {
                let entry = Entry::event(
                    "session",
                    Some(*user),
                    Decision::Allowed,
                    "session expired".to_owned(),
                );
                audit::insert(&mut tx, &entry).await?;
            }
            tx.commit().await?;
            users.len()
        };
        if expired > 0 {
            tracing::info!(sessions = expired, "closed expired sessions");
        }
        if self.audit_retention_days > 0 {
            let keep = i64::from(self.audit_retention_days) * 86_400_000;
            let before = now - keep;
            let pruned = in_batches(|| audit_chain::prune(&d.db, before, BATCH)).await?;
            if pruned > 0 {
                d.metrics
                    .add("telegate_pruned_rows_total", &[("table", "audit")], pruned);
                let entry = Entry::event(
                    "audit",
                    None,
                    Decision::Allowed,
                    format!(
                        "pruned {pruned} row(s) older than {} day(s)",
                        self.audit_retention_days
                    ),
                );
                audit::record(&d.db, &entry).await?;
                tracing::info!(rows = pruned, "pruned old audit rows");
            }
        }
        self.account_for_flood_drops().await?;
        self.prune_kept_no_longer(now).await?;
        Ok(())
    }

    /// Writes each flooding user's drops since the last round as one audit
    /// row. Every round does it, so a drop waits a minute at most for its
    /// row, also when the flood has ended.
    async fn account_for_flood_drops(&self) -> anyhow::Result<()> {
        let d = &self.dispatcher;
        let dropped = flood_drops::flush(&d.db, d.flood.limit()).await?;
        if dropped > 0 {
            tracing::info!(
                updates = dropped,
                "the flood limit dropped updates; audited"
            );
        }
        Ok(())
    }

    /// Prunes handled updates and sent calls RETENTION_DAYS after they
    /// finished, dead letters twice as long after they were queued (the
    /// operator may still want to retry them), and the brute-force guard's
    /// rows once they no longer count: enrolment requests after a day,
    /// wrong codes after the lockout window, wrong enrolment passcodes after
    /// an hour, lockouts and a pause of enrolment once over. Pending updates
    /// and calls are never pruned.
    async fn prune_kept_no_longer(&self, now: i64) -> anyhow::Result<()> {
        let d = &self.dispatcher;
        let mut due = vec![
            (Prunable::EnrolmentRequests, now - DAY_MS),
            (
                Prunable::PasscodeFailures,
                now.saturating_sub(millis(d.guard.window)),
            ),
            (Prunable::Lockouts, now),
            (Prunable::EnrolmentWrong, now - HOUR_MS),
            (Prunable::EnrolmentPause, now),
        ];
        if self.retention_days > 0 {
            let keep = i64::from(self.retention_days) * DAY_MS;
            due.extend([
                (Prunable::Inbox, now - keep),
                (Prunable::OutboxSent, now - keep),
                (Prunable::OutboxDead, now - 2 * keep),
                (Prunable::Jobs, now - keep),
                (Prunable::Uploads, now - keep),
            ]);
        }
        for (what, before) in due {
            let pruned = in_batches(|| retention::prune_batch(&d.db, what, before)).await?;
            if pruned > 0 {
                d.metrics.add(
                    "telegate_pruned_rows_total",
                    &[("table", what.table())],
                    pruned,
                );
                tracing::debug!(
                    table = what.table(),
                    rows = pruned,
                    "pruned rows kept no longer"
                );
            }
        }
        Ok(())
    }
}

/// Runs `batch` until it deletes fewer than [`BATCH`] rows, letting other
/// writers (the webhook) have the connection between two. Returns how many
/// rows went in all.
async fn in_batches<F, Fut>(mut batch: F) -> sqlx::Result<u64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = sqlx::Result<u64>>,
{
    let mut total = 0;
    loop {
        let pruned = batch().await?;
        total += pruned;
        if pruned < BATCH.unsigned_abs() {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
