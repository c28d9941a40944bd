//! The one component that sends: it drains the outbox, one call at a time per
//! chat and chats in parallel, and retries what failed for a passing reason.

use std::{sync::Arc, time::Duration};

use serde_json::Value;
use tokio::{sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::{ApiError, BotClient};
use crate::store::{Db, now_ms, outbox};

/// How many chats are sent to at once.
const PARALLEL_CHATS: i64 = 16;
/// A call still failing after this long is given up on.
const MAX_AGE_MS: i64 = 24 * 60 * 60 * 1000;

pub struct Sender {
    pub db: Db,
    pub client: BotClient,
    /// Signalled whenever calls are queued.
    pub wake: Arc<Notify>,
    /// Waits between attempts after a passing failure; the last one repeats.
    pub backoff: Arc<[Duration]>,
}

impl Sender {
    /// Sends until `cancel` fires; calls under way are finished first.
    pub async fn run(self, cancel: CancellationToken) {
        while !cancel.is_cancelled() {
            let due = match outbox::due_heads(&self.db, PARALLEL_CHATS).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox");
                    Vec::new()
                }
            };
            if due.is_empty() {
                let wait = self.idle_wait().await;
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            let mut sends = JoinSet::new();
            for call in due {
                let (db, client, backoff) =
                    (self.db.clone(), self.client.clone(), self.backoff.clone());
                sends.spawn(async move { send_one(&db, &client, &backoff, call).await });
            }
            while sends.join_next().await.is_some() {}
        }
    }

    /// How long to sleep when nothing is due: until the next retry, at most 1 s.
    async fn idle_wait(&self) -> Duration {
        let next = outbox::next_due_at(&self.db).await.ok().flatten();
        let ms = next.map_or(1000, |at| (at - now_ms()).clamp(10, 1000));
        Duration::from_millis(ms.unsigned_abs())
    }
}

async fn send_one(db: &Db, client: &BotClient, backoff: &[Duration], call: outbox::QueuedCall) {
    let params: Value = serde_json::from_str(&call.params).unwrap_or(Value::Null);
    let result = client.call(&call.method, &params).await;
    let stored = match result {
        Ok(_) => outbox::mark_sent(db, call.id).await,
        Err(e) => {
            let (at, reason) = plan_retry(&call, &e, backoff);
            match at {
                Some(at) => {
                    tracing::warn!(id = call.id, method = %call.method, error = %e, "send failed; will retry");
                    outbox::retry_at(db, call.id, at, &reason).await
                }
                None => {
                    tracing::error!(id = call.id, method = %call.method, error = %e, "send failed for good; kept as a dead letter");
                    outbox::mark_dead(db, call.id, &reason).await
                }
            }
        }
    };
    if let Err(e) = stored {
        tracing::error!(id = call.id, error = %e, "cannot record the outcome of a send");
    }
}

/// When to try again (unix ms), or `None` to give up; and the reason to record.
fn plan_retry(
    call: &outbox::QueuedCall,
    error: &ApiError,
    backoff: &[Duration],
) -> (Option<i64>, String) {
    let reason = error.to_string();
    let now = now_ms();
    if !error.is_transient() || now - call.created_at > MAX_AGE_MS {
        return (None, reason);
    }
    let step = usize::try_from(call.attempts).unwrap_or(usize::MAX);
    let wait = error
        .retry_after()
        .or_else(|| backoff.get(step).or(backoff.last()).copied())
        .unwrap_or(Duration::from_secs(1));
    let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
    (Some(now + wait_ms), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: [Duration; 4] = [
        Duration::from_secs(1),
        Duration::from_secs(4),
        Duration::from_secs(16),
        Duration::from_secs(60),
    ];

    fn call(attempts: i64, age_ms: i64) -> outbox::QueuedCall {
        outbox::QueuedCall {
            id: 1,
            chat_id: 1,
            method: "sendMessage".into(),
            params: "{}".into(),
            attempts,
            created_at: now_ms() - age_ms,
        }
    }

    fn api(code: u64, retry_after: Option<u64>) -> ApiError {
        ApiError::Api {
            code,
            description: "x".into(),
            retry_after,
        }
    }

    fn wait_of(plan: (Option<i64>, String)) -> Option<i64> {
        plan.0
            .map(|at| ((at - now_ms()) as f64 / 1000.0).round() as i64)
    }

    #[test]
    fn a_429_waits_as_long_as_telegram_asks() {
        assert_eq!(
            wait_of(plan_retry(&call(0, 0), &api(429, Some(7)), &BACKOFF)),
            Some(7)
        );
    }

    #[test]
    fn server_and_network_errors_back_off_1_4_16_then_60_seconds() {
        let transport = ApiError::Transport("closed".into());
        let waits: Vec<_> = (0..6)
            .map(|n| wait_of(plan_retry(&call(n, 0), &transport, &BACKOFF)))
            .collect();
        assert_eq!(
            waits,
            [Some(1), Some(4), Some(16), Some(60), Some(60), Some(60)]
        );
        assert_eq!(
            wait_of(plan_retry(&call(0, 0), &api(502, None), &BACKOFF)),
            Some(1)
        );
    }

    #[test]
    fn bad_requests_and_blocked_chats_are_not_retried() {
        assert_eq!(plan_retry(&call(0, 0), &api(400, None), &BACKOFF).0, None);
        assert_eq!(plan_retry(&call(0, 0), &api(403, None), &BACKOFF).0, None);
    }

    #[test]
    fn a_call_older_than_a_day_is_given_up_on() {
        assert_eq!(
            plan_retry(&call(9, MAX_AGE_MS + 1), &api(500, None), &BACKOFF).0,
            None
        );
    }
}
