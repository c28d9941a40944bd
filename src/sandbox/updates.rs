//! What the sandbox sends the server: the owner's messages and button
//! presses, posted to the webhook as Telegram posts them, and the wait for
//! each to be answered.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde_json::{Value, json};

use super::{OWNER_ID, REPLY_DEADLINE, TELEGRAM_ADDRESS, render::Slot};
use crate::{
    app::Running,
    http::SECRET_HEADER,
    standin::StandIn,
    store::{inbox, jobs, outbox},
};

/// The update for a press of the button, or why there is none (the message
/// no longer has it, or it is a link).
pub(super) fn pressed(standin: &StandIn, update_id: i64, slot: &Slot) -> Result<Value, String> {
    let gone = || format!("(the button \"{}\" is no longer there)", slot.text);
    let message = standin
        .message(slot.chat_id, slot.message_id)
        .ok_or_else(gone)?;
    let button = message
        .buttons()
        .into_iter()
        .nth(slot.nth)
        .filter(|b| b.text == slot.text)
        .ok_or_else(gone)?;
    if let Some(url) = button.url {
        return Err(format!(
            "(the button \"{}\" is a link to {url}: nothing to press here)",
            slot.text
        ));
    }
    standin
        .press_nth(
            update_id,
            (slot.chat_id, slot.message_id),
            &owner(),
            slot.nth,
        )
        .ok_or_else(gone)
}

/// Posts updates as Telegram does: the secret header, from Telegram's range
/// as forwarded by the loopback "proxy".
pub(super) struct Webhook {
    pub(super) http: frankenstein::reqwest::Client,
    pub(super) url: String,
    pub(super) secret: String,
}

impl Webhook {
    /// Whether the webhook took the update.
    pub(super) async fn post(&self, update: &Value) -> anyhow::Result<bool> {
        let status = self
            .http
            .post(&self.url)
            .header(SECRET_HEADER, &self.secret)
            .header("x-forwarded-for", TELEGRAM_ADDRESS)
            .header("content-type", "application/json")
            .body(update.to_string())
            .send()
            .await
            .context("cannot reach the webhook")?
            .status();
        if status != 200 {
            eprintln!("the webhook answered {status}");
        }
        Ok(status == 200)
    }
}

/// Continues after the updates of an earlier session kept in `--database`.
pub(super) async fn first_update_id(running: &Running) -> i64 {
    crate::store::inbox::last_update_id(running.db())
        .await
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// Waits (bounded) until the update is handled, so that lines piped in are
/// taken in turn. Its replies, and a command's edits, show as they are sent
/// (a chat's messages go out in order), while the next line is read.
pub(super) async fn wait_until_handled(running: &Running, update_id: i64) {
    let db = running.db();
    let handled = || async {
        inbox::status(db, update_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|s| s != "pending")
    };
    if !within_deadline(handled).await {
        eprintln!("(no answer within {} s)", REPLY_DEADLINE.as_secs());
    }
}

/// Waits (bounded) until nothing waits to be sent: before leaving, so that
/// the last replies are shown.
pub(super) async fn wait_until_sent(running: &Running) {
    let db = running.db();
    within_deadline(|| async { outbox::count_pending(db).await.is_ok_and(|n| n == 0) }).await;
}

/// Waits (bounded) until no relay job runs and nothing waits to be sent:
/// before leaving, so that a command typed last still shows its end.
pub(super) async fn wait_until_idle(running: &Running) {
    let db = running.db();
    within_deadline(|| async {
        let idle = jobs::live(db).await.is_ok_and(|j| j.is_empty());
        idle && outbox::count_pending(db).await.is_ok_and(|n| n == 0)
    })
    .await;
}

/// Whether `done` became true before REPLY_DEADLINE. (The database has no
/// signal to wait on; it is asked every 10 ms.)
async fn within_deadline<F: Future<Output = bool>>(done: impl Fn() -> F) -> bool {
    let deadline = Instant::now() + REPLY_DEADLINE;
    while Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// The owner, as Telegram describes the sender.
pub(super) fn owner() -> Value {
    json!({"id": OWNER_ID, "is_bot": false, "first_name": "Owner", "language_code": "en"})
}

pub(super) fn owner_message(update_id: i64, text: &str) -> Value {
    let date = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut message = json!({
        "message_id": update_id,
        "from": owner(),
        "chat": {"id": OWNER_ID, "type": "private", "first_name": "Owner"},
        "date": date,
        "text": text,
    });
    if text.starts_with('/') {
        let length = text
            .split_whitespace()
            .next()
            .map_or(0, |c| c.encode_utf16().count());
        message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
    }
    json!({ "update_id": update_id, "message": message })
}
