//! `telegate poll`: updates fetched with getUpdates (long polling) instead
//! of posted to a webhook, for development on a machine Telegram cannot
//! reach. Each update goes into the same inbox as a webhook's, and is
//! confirmed to Telegram (by the next call's offset) only once it is stored.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{ApiError, BotClient, register::ALLOWED_UPDATES};
use crate::{
    http::parse_update,
    ingest::{Ingest, Stored},
};

/// How long one getUpdates call waits for an update; under the client's
/// 30 s timeout.
pub const LONG_POLL: Duration = Duration::from_secs(25);
/// Most updates per call (the Bot API's own maximum).
const LIMIT: u32 = 100;

pub struct Poller {
    pub client: BotClient,
    pub ingest: Ingest,
}

impl Poller {
    /// Fetches and stores updates until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        let mut offset: Option<i64> = None;
        let mut delay = Duration::from_secs(1);
        while !cancel.is_cancelled() {
            let params = json!({
                "offset": offset,
                "limit": LIMIT,
                "timeout": LONG_POLL.as_secs(),
                "allowed_updates": ALLOWED_UPDATES,
            });
            let answer = tokio::select! {
                () = cancel.cancelled() => return,
                answer = self.client.call("getUpdates", &params) => answer,
            };
            let failure = match answer {
                Ok(updates) => match self.store(&updates, &mut offset).await {
                    Ok(()) => {
                        delay = Duration::from_secs(1);
                        continue;
                    }
                    Err(e) => e,
                },
                Err(e) => explain(&e),
            };
            tracing::warn!(error = %failure, retry_in = ?delay, "polling for updates failed; retrying");
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }

    /// Stores each update in order, moving `offset` past it; stops at the
    /// first that cannot be stored, so Telegram hands it out again.
    async fn store(&self, updates: &Value, offset: &mut Option<i64>) -> Result<(), String> {
        let Some(updates) = updates.as_array() else {
            return Err("getUpdates did not answer with a list".to_owned());
        };
        for update in updates {
            let Some(update_id) = update["update_id"].as_i64() else {
                tracing::warn!("getUpdates gave an update without an update_id; skipped");
                continue;
            };
            let parsed = serde_json::to_vec(update)
                .map_err(|e| e.to_string())
                .and_then(|body| parse_update(&body).map_err(|e| e.to_string()));
            match parsed {
                Ok(new) => match self.ingest.store(new).await {
                    Ok(Stored::New) => tracing::debug!(update_id, "update stored"),
                    Ok(Stored::Duplicate) => {
                        tracing::debug!(update_id, "update fetched again; already stored");
                    }
                    Err(e) => return Err(format!("update {update_id}: {e}")),
                },
                Err(e) => {
                    tracing::warn!(update_id, error = %e, "an update could not be read; skipped")
                }
            }
            *offset = Some(update_id + 1);
        }
        Ok(())
    }
}

/// The failure, with what to do about the ones an operator causes.
fn explain(error: &ApiError) -> String {
    let hint = match error {
        ApiError::Api {
            code: 409,
            description,
            ..
        } if description.contains("webhook") => {
            " (a webhook was set again: is telegate serve running elsewhere with this token?)"
        }
        ApiError::Api { code: 409, .. } => " (another process is polling with this token; stop it)",
        ApiError::Api { code: 401, .. } => " (TELEGRAM_BOT_TOKEN is wrong or was revoked)",
        _ => "",
    };
    format!("{error}{hint}")
}
