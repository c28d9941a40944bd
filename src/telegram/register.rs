//! Start-up registration: getMe, setWebhook, setMyCommands, retried with
//! backoff in the background so an unreachable Bot API never crash-loops.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::BotClient;
use crate::{
    bot::commands::{COMMANDS, Level},
    config::Config,
};

/// Update kinds the handlers use; Telegram sends only these.
pub const ALLOWED_UPDATES: [&str; 2] = ["message", "my_chat_member"];

/// Who the bot is, learned from getMe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub id: i64,
    pub username: String,
}

/// Where registration stands, for /health and /status.
#[derive(Debug, Default)]
pub struct WebhookStatus {
    inner: Mutex<StatusInner>,
}

#[derive(Debug, Default, Clone)]
struct StatusInner {
    registered: bool,
    last_error: Option<String>,
}

impl WebhookStatus {
    pub fn registered(&self) -> bool {
        self.lock().registered
    }

    pub fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StatusInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, registered: bool, last_error: Option<String>) {
        *self.lock() = StatusInner {
            registered,
            last_error,
        };
    }
}

/// Registers the bot, retrying until it succeeds or `cancel` fires.
pub async fn run(
    client: BotClient,
    config: Arc<Config>,
    status: Arc<WebhookStatus>,
    identity: watch::Sender<Option<BotIdentity>>,
    cancel: CancellationToken,
) {
    let mut delay = Duration::from_secs(1);
    loop {
        match register_once(&client, &config, &identity).await {
            Ok(()) => {
                status.set(true, None);
                tracing::info!(url = %config.webhook_url, "webhook registered");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?delay, "registration with the Bot API failed; retrying");
                status.set(false, Some(e.to_string()));
            }
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(60));
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
struct StepError {
    step: &'static str,
    source: super::ApiError,
}

async fn register_once(
    client: &BotClient,
    config: &Config,
    identity: &watch::Sender<Option<BotIdentity>>,
) -> Result<(), StepError> {
    let step = |step| move |source| StepError { step, source };
    let me = client
        .call("getMe", &json!({}))
        .await
        .map_err(step("getMe"))?;
    identity.send_replace(Some(parse_identity(&me)));
    client
        .call("setWebhook", &webhook_params(config))
        .await
        .map_err(step("setWebhook"))?;
    // Everyone's menu lists the ordinary commands; the owner's chat lists
    // the owner tools too.
    for params in [
        commands_params(false, None),
        commands_params(true, Some(config.owner_id)),
    ] {
        client
            .call("setMyCommands", &params)
            .await
            .map_err(step("setMyCommands"))?;
    }
    Ok(())
}

fn parse_identity(me: &Value) -> BotIdentity {
    BotIdentity {
        id: me["id"].as_i64().unwrap_or_default(),
        username: me["username"].as_str().unwrap_or_default().to_owned(),
    }
}

/// setWebhook's parameters: the configured URL and secret, and only the
/// update kinds the handlers use.
pub fn webhook_params(config: &Config) -> Value {
    json!({
        "url": config.webhook_url,
        "secret_token": config.webhook_secret.expose(),
        "allowed_updates": ALLOWED_UPDATES,
        "max_connections": config.webhook_max_connections,
    })
}

fn commands_params(owner_tools: bool, chat: Option<i64>) -> Value {
    let commands: Vec<Value> = COMMANDS
        .iter()
        .filter(|c| owner_tools || c.level != Level::Owner)
        .map(|c| json!({ "command": c.name, "description": c.description }))
        .collect();
    match chat {
        Some(chat_id) => json!({
            "commands": commands,
            "scope": { "type": "chat", "chat_id": chat_id },
        }),
        None => json!({ "commands": commands }),
    }
}
