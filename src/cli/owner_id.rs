//! `telegate owner-id`: learn the user id for BOT_OWNER_ID before anything
//! else is configured. It needs only the token: it reads the bot's next
//! private message with getUpdates and prints who sent it.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};

use crate::{
    config::Config,
    telegram::{ApiError, BotClient},
};

/// One getUpdates call waits at most this long (under the client's timeout).
const LONG_POLL: Duration = Duration::from_secs(25);

pub async fn run(wait: Duration) -> anyhow::Result<()> {
    let (api_url, token) = Config::bot_api_from_env()?;
    let client = BotClient::new(&api_url, &token)?;
    println!(
        "Send any message to the bot in a private chat, from the Telegram account that will own it (waiting {} s)...",
        wait.as_secs()
    );
    let deadline = Instant::now() + wait;
    let mut offset: Option<i64> = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!(
                "no private message reached the bot within {} s: open a chat with it in Telegram, send it anything, and run this again (--wait sets how long to wait)",
                wait.as_secs()
            );
        }
        let params = json!({
            "offset": offset,
            "timeout": left.min(LONG_POLL).as_secs(),
            "allowed_updates": ["message"],
        });
        let updates = match client.call("getUpdates", &params).await {
            Ok(updates) => updates,
            Err(ApiError::Api { code: 409, .. }) => bail!(
                "Telegram does not hand out messages while a webhook is set (telegate serve sets one): run `telegate webhook delete` first (serve sets it again when it starts), or send the bot a message and read the id in its refusal"
            ),
            Err(ApiError::Api { code: 401, .. }) => {
                bail!("Telegram refused TELEGRAM_BOT_TOKEN: copy it again from @BotFather")
            }
            Err(e) => bail!("getUpdates failed: {e}"),
        };
        for update in updates.as_array().into_iter().flatten() {
            offset = update["update_id"].as_i64().map(|id| id + 1).or(offset);
            if let Some(line) = sender(update) {
                println!("{line}");
                return Ok(());
            }
        }
    }
}

/// "Message from Alice (@alice): user id 42 ..." for a private message.
fn sender(update: &Value) -> Option<String> {
    let message = &update["message"];
    if message["chat"]["type"] != "private" || message["forward_origin"].is_object() {
        return None;
    }
    let from = &message["from"];
    let id = from["id"].as_i64()?;
    let name = printable(from["first_name"].as_str().unwrap_or_default());
    let username = from["username"]
        .as_str()
        .map(|u| format!(" (@{})", printable(u)))
        .unwrap_or_default();
    Some(format!(
        "Message from {name}{username}: user id {id}\nIf that is you, set BOT_OWNER_ID={id} in the env file."
    ))
}

/// A name as typed by anyone on Telegram, without control characters that
/// could move the terminal's cursor.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_of_a_private_message_is_named_without_control_characters() {
        let update = json!({"update_id": 1, "message": {"chat": {"type": "private"},
            "from": {"id": 42, "first_name": "Al\u{1b}[2Jice", "username": "alice"}}});
        assert_eq!(
            sender(&update).unwrap().lines().next().unwrap(),
            "Message from Al[2Jice (@alice): user id 42"
        );
        let group =
            json!({"update_id": 2, "message": {"chat": {"type": "group"}, "from": {"id": 7}}});
        assert_eq!(sender(&group), None);
    }
}
