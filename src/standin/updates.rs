//! getUpdates: the updates Telegram holds for a bot that has no webhook,
//! handed out by long polling. An update is forgotten once a later call's
//! `offset` is past it, as on the real Bot API.

use std::{collections::VecDeque, time::Duration};

use axum::response::Response;
use serde_json::{Value, json};

use super::{State, lock, methods};

/// Updates waiting to be fetched, and which getUpdates call is the live one.
#[derive(Default)]
pub(super) struct Held {
    pending: VecDeque<Value>,
    /// Bumped by every getUpdates; an older call still waiting is ended
    /// with 409, as Telegram ends one of two bot instances polling at once.
    generation: u64,
}

impl Held {
    pub fn push(&mut self, update: Value) {
        self.pending.push_back(update);
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Confirms everything before `offset` and returns up to `limit` of the
    /// rest that are of an allowed kind.
    fn take(&mut self, offset: Option<i64>, limit: usize, allowed: &[String]) -> Vec<Value> {
        if let Some(offset) = offset {
            self.pending
                .retain(|u| u["update_id"].as_i64().is_some_and(|id| id >= offset));
        }
        if !allowed.is_empty() {
            self.pending.retain(|u| {
                u.as_object()
                    .is_some_and(|o| o.keys().any(|k| allowed.contains(k)))
            });
        }
        self.pending.iter().take(limit).cloned().collect()
    }
}

pub(super) async fn get_updates(state: &State, params: &Value) -> Response {
    let webhook = lock(&state.webhook)["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !webhook.is_empty() {
        return methods::error(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            None,
        );
    }
    let offset = params["offset"].as_i64();
    let limit = params["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0));
    let allowed: Vec<String> = params["allowed_updates"]
        .as_array()
        .map(|kinds| {
            kinds
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let generation = {
        let mut held = lock(&state.held);
        held.generation += 1;
        held.generation
    };
    state.arrived.notify_waiters();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let arrived = state.arrived.notified();
        tokio::pin!(arrived);
        arrived.as_mut().enable();
        {
            let mut held = lock(&state.held);
            if held.generation != generation {
                return methods::error(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                    None,
                );
            }
            let updates = held.take(offset, limit, &allowed);
            if !updates.is_empty() || tokio::time::Instant::now() >= deadline {
                return methods::ok(json!(updates));
            }
        }
        let _ = tokio::time::timeout_at(deadline, arrived).await;
    }
}
