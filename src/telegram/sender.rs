//! The one component that sends: it drains the outbox, each chat in order in
//! a lane of its own, chats in parallel, every message in a slot the
//! [`Throttle`] allows; and it retries what failed for a passing reason.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;
use tokio::{sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;

mod edit;

use super::{
    ApiError, BotClient,
    throttle::{Limits, Slot, Throttle},
};
use crate::{
    clock::Clock,
    config::Config,
    metrics::Metrics,
    store::{
        Db,
        audit::{self, Decision, Entry},
        fault::Faults,
        outbox::{self, QueuedCall},
    },
};

/// How many chats are sent to at once.
const PARALLEL_CHATS: usize = 64;

/// The sending settings.
#[derive(Debug, Clone)]
pub struct Policy {
    pub limits: Limits,
    /// Waits between attempts after a passing failure; the last one repeats.
    pub backoff: Arc<[Duration]>,
    /// A call still failing after this long is given up on.
    pub max_age: Duration,
}

impl Policy {
    /// RATE_*, SEND_RETRY_BACKOFF and SEND_MAX_AGE.
    pub fn from_config(config: &Config) -> Self {
        Self {
            limits: Limits {
                global_per_sec: config.rate_global_per_sec,
                chat_per_sec: config.rate_chat_per_sec,
                group_per_min: config.rate_group_per_min,
            },
            backoff: config.send_retry_backoff.clone().into(),
            max_age: config.send_max_age,
        }
    }
}

pub struct Sender {
    pub db: Db,
    pub client: BotClient,
    /// Signalled whenever calls are queued.
    pub wake: Arc<Notify>,
    pub policy: Policy,
    pub clock: Clock,
    pub metrics: Metrics,
    pub faults: Arc<Faults>,
}

/// What the lanes share.
struct Shared {
    db: Db,
    client: BotClient,
    policy: Policy,
    clock: Clock,
    metrics: Metrics,
    throttle: Mutex<Throttle>,
    faults: Arc<Faults>,
    /// Calls Telegram took whose `sent` mark could not be written (the
    /// database failing): never sent again, marked once it can be written.
    unrecorded: Mutex<HashMap<i64, Option<i64>>>,
}

impl Sender {
    /// Sends until `cancel` fires; a call under way is finished first.
    pub async fn run(self, cancel: CancellationToken) {
        let shared = Arc::new(Shared {
            throttle: Mutex::new(Throttle::new(self.policy.limits)),
            db: self.db,
            client: self.client,
            policy: self.policy,
            clock: self.clock,
            metrics: self.metrics,
            faults: self.faults,
            unrecorded: Mutex::new(HashMap::new()),
        });
        let mut busy: HashSet<i64> = HashSet::new();
        let mut lanes: JoinSet<i64> = JoinSet::new();
        while !cancel.is_cancelled() {
            // Nothing is sent while its outcome could not be written down;
            // marking what was sent before is the try that finds out when it can.
            tokio::select! {
                () = cancel.cancelled() => break,
                () = shared.faults.until_retry() => {}
            }
            record_unrecorded(&shared).await;
            if shared.faults.is_failing() {
                continue;
            }
            let now = shared.clock.now_ms();
            let limit = i64::try_from(PARALLEL_CHATS * 2).unwrap_or(i64::MAX);
            let due = match outbox::due_heads(&shared.db, now, limit).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox");
                    Vec::new()
                }
            };
            let unrecorded = shared.lock_unrecorded().clone();
            for head in due.into_iter().filter(|h| !unrecorded.contains_key(&h.id)) {
                if lanes.len() >= PARALLEL_CHATS {
                    break;
                }
                if busy.insert(head.chat_id) {
                    let (shared, stop) = (shared.clone(), cancel.clone());
                    lanes.spawn(run_lane(shared, head, stop));
                }
            }
            let wait = idle_wait(&shared).await;
            tokio::select! {
                () = cancel.cancelled() => {}
                Some(done) = lanes.join_next() => {
                    if let Ok(chat) = done {
                        busy.remove(&chat);
                    } else {
                        // A panicked lane: forget every chat, the next scan sees what is left.
                        busy.clear();
                    }
                }
                () = self.wake.notified() => {}
                () = shared.clock.sleep_until(shared.clock.now_ms() + wait) => {}
            }
        }
        while lanes.join_next().await.is_some() {}
    }
}

impl Shared {
    fn lock_unrecorded(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Option<i64>>> {
        self.unrecorded.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Marks sent the calls whose mark could not be written before.
async fn record_unrecorded(shared: &Shared) {
    let ids: Vec<(i64, Option<i64>)> = shared
        .lock_unrecorded()
        .iter()
        .map(|(id, message)| (*id, *message))
        .collect();
    for (id, message) in ids {
        let marked = outbox::mark_sent(&shared.db, id, message).await;
        if !shared.faults.record("marking a call sent", &marked) && marked.is_ok() {
            shared.lock_unrecorded().remove(&id);
        }
    }
}

/// How long to wait when nothing new comes: until the next retry, at most 1 s.
async fn idle_wait(shared: &Shared) -> i64 {
    let next = outbox::next_due_at(&shared.db).await.ok().flatten();
    next.map_or(1000, |at| (at - shared.clock.now_ms()).clamp(10, 1000))
}

/// Sends one chat's due calls in order, each in its slot; returns the chat.
async fn run_lane(shared: Arc<Shared>, first: QueuedCall, cancel: CancellationToken) -> i64 {
    let chat = first.chat_id;
    let mut next = Some(first);
    while let Some(call) = next.take() {
        loop {
            let slot = shared
                .throttle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .reserve(chat, &call.method, shared.clock.now_ms());
            let (at, reserved) = match slot {
                Slot::At(at) => (at, true),
                Slot::AskAgainAt(at) => (at, false),
            };
            tokio::select! {
                () = cancel.cancelled() => return chat,
                () = shared.clock.sleep_until(at) => {}
            }
            if reserved {
                break;
            }
        }
        if !send_one(&shared, &call).await {
            return chat;
        }
        if cancel.is_cancelled() || shared.faults.is_failing() {
            return chat;
        }
        next = match outbox::due_head_of(&shared.db, chat, shared.clock.now_ms()).await {
            Ok(head) => head,
            Err(e) => {
                tracing::error!(error = %e, chat, "cannot read the outbox");
                None
            }
        };
    }
    chat
}

/// Makes one call and records the outcome. Returns whether it was sent
/// (so the lane may go on with the chat's next call).
async fn send_one(shared: &Shared, call: &QueuedCall) -> bool {
    let params: Value = serde_json::from_str(&call.params).unwrap_or(Value::Null);
    let (method, params) = match edit::resolve(&shared.db, call, params).await {
        Ok(Some(resolved)) => resolved,
        Ok(None) => {
            // Nothing left to edit (a keyboard on a message that never went out).
            let stored = outbox::mark_sent(&shared.db, call.id, None).await;
            return !shared.faults.record("recording a send", &stored) && stored.is_ok();
        }
        Err(e) => {
            shared.faults.record("reading the outbox", &Err::<(), _>(e));
            return false;
        }
    };
    // The client counts the call in telegate_bot_api_calls_total.
    let result = shared.client.call(&method, &params).await;
    let now = shared.clock.now_ms();
    let (sent, stored) = match result {
        Ok(result) => (Some(result["message_id"].as_i64()), None),
        // An edit to what the message already shows: done.
        Err(e) if edit::is_unmodified(&e) => (Some(None), None),
        Err(e) => (None, Some(e)),
    };
    let stored = match (sent, stored) {
        (Some(message), _) => outbox::mark_sent(&shared.db, call.id, message).await,
        (None, Some(e)) => record_failure(shared, call, &e, now).await,
        (None, None) => Ok(()),
    };
    let storage = shared.faults.record("recording a send", &stored);
    if let Err(e) = stored {
        if let Some(message) = sent {
            // Telegram has it: it must not go out again.
            shared.lock_unrecorded().insert(call.id, message);
        }
        if !storage {
            tracing::error!(id = call.id, error = %e, "cannot record the outcome of a send");
        }
        return false;
    }
    sent.is_some()
}

async fn record_failure(
    shared: &Shared,
    call: &QueuedCall,
    error: &ApiError,
    now: i64,
) -> sqlx::Result<()> {
    let (at, reason) = plan_retry(call, error, &shared.policy, now);
    let Some(at) = at else {
        tracing::error!(id = call.id, method = %call.method, error = %error, "send failed for good; kept as a dead letter");
        shared.metrics.count("telegate_dead_letters_total", &[]);
        outbox::mark_dead(&shared.db, call.id, &reason).await?;
        let entry = Entry {
            chat_id: Some(call.chat_id),
            command: Some(call.method.clone()),
            ..Entry::event(
                "outbox",
                None,
                Decision::Refused,
                format!("dead letter {}: {reason}", call.id),
            )
        };
        return audit::record(&shared.db, &entry).await;
    };
    shared.metrics.count("telegate_send_retries_total", &[]);
    if let Some(wait) = error.retry_after() {
        shared
            .metrics
            .count("telegate_too_many_requests_total", &[]);
        tracing::warn!(
            chat = call.chat_id,
            seconds = wait.as_secs(),
            "429 from the Bot API; holding the chat"
        );
        let overall = shared
            .throttle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .hold(call.chat_id, at, now);
        if overall {
            tracing::warn!(
                seconds = wait.as_secs(),
                "429s in several chats: holding every chat"
            );
            outbox::hold_all(&shared.db, at).await?;
        } else {
            outbox::hold_chat(&shared.db, call.chat_id, at).await?;
        }
    } else {
        tracing::warn!(id = call.id, method = %call.method, error = %error, "send failed; will retry");
    }
    outbox::retry_at(&shared.db, call.id, at, &reason).await
}

/// When to try again (unix ms), or `None` to give up; and the reason to record.
fn plan_retry(
    call: &QueuedCall,
    error: &ApiError,
    policy: &Policy,
    now: i64,
) -> (Option<i64>, String) {
    let reason = error.to_string();
    let max_age = i64::try_from(policy.max_age.as_millis()).unwrap_or(i64::MAX);
    if !error.is_transient() || now - call.created_at > max_age {
        return (None, reason);
    }
    let step = usize::try_from(call.attempts).unwrap_or(usize::MAX);
    let backoff = &policy.backoff;
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

    const NOW: i64 = 1_000_000_000;
    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn policy() -> Policy {
        Policy {
            limits: Limits::default(),
            backoff: Arc::new([
                Duration::from_secs(1),
                Duration::from_secs(4),
                Duration::from_secs(16),
                Duration::from_secs(60),
            ]),
            max_age: DAY,
        }
    }

    fn call(attempts: i64, age_ms: i64) -> QueuedCall {
        QueuedCall {
            id: 1,
            chat_id: 1,
            method: "sendMessage".into(),
            params: "{}".into(),
            attempts,
            created_at: NOW - age_ms,
            edit_of: None,
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
        plan.0.map(|at| (at - NOW) / 1000)
    }

    #[test]
    fn a_429_waits_as_long_as_telegram_asks() {
        let plan = plan_retry(&call(0, 0), &api(429, Some(7)), &policy(), NOW);
        assert_eq!(wait_of(plan), Some(7));
    }

    #[test]
    fn server_and_network_errors_back_off_1_4_16_then_60_seconds() {
        let transport = ApiError::Transport("closed".into());
        let waits: Vec<_> = (0..6)
            .map(|n| wait_of(plan_retry(&call(n, 0), &transport, &policy(), NOW)))
            .collect();
        assert_eq!(
            waits,
            [Some(1), Some(4), Some(16), Some(60), Some(60), Some(60)]
        );
        let bad_gateway = plan_retry(&call(0, 0), &api(502, None), &policy(), NOW);
        assert_eq!(wait_of(bad_gateway), Some(1));
    }

    #[test]
    fn bad_requests_and_blocked_chats_are_not_retried() {
        assert_eq!(
            plan_retry(&call(0, 0), &api(400, None), &policy(), NOW).0,
            None
        );
        assert_eq!(
            plan_retry(&call(0, 0), &api(403, None), &policy(), NOW).0,
            None
        );
    }

    #[test]
    fn a_call_older_than_the_maximum_age_is_given_up_on() {
        let old = i64::try_from(DAY.as_millis()).unwrap() + 1;
        assert_eq!(
            plan_retry(&call(9, old), &api(500, None), &policy(), NOW).0,
            None
        );
    }
}
