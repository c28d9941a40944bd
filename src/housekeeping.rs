//! Periodic chores: close sessions that expired (and audit it), and prune
//! audit rows older than AUDIT_RETENTION_DAYS.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{
    bot::{Dispatcher, guard::millis},
    store::{
        audit::{self, Decision, Entry},
        audit_chain, sessions,
    },
};

/// How often the chores run.
pub const EVERY: Duration = Duration::from_secs(60);

pub struct Housekeeping {
    pub dispatcher: Arc<Dispatcher>,
    /// 0: audit rows are kept forever.
    pub audit_retention_days: u32,
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
            let pruned = audit_chain::prune(&d.db, now - keep).await?;
            if pruned > 0 {
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
        Ok(())
    }
}
