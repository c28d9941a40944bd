//! Start-up registration: getMe, setWebhook (or, to poll, deleteWebhook),
//! setMyCommands, retried with backoff in the background so an unreachable
//! Bot API never crash-loops.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::{ApiError, BotClient};
use crate::{
    bot::commands::{COMMANDS, Level, listed},
    config::{Config, Intake},
};

/// Update kinds the handlers use; Telegram sends only these.
pub const ALLOWED_UPDATES: [&str; 3] = ["message", "my_chat_member", "callback_query"];

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
    /// Signalled once registration has succeeded.
    done: Notify,
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

    /// Returns once registration has succeeded.
    pub async fn wait_registered(&self) {
        if !self.registered() {
            // notify_one keeps a permit, so a success in between is not missed.
            self.done.notified().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StatusInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, registered: bool, last_error: Option<String>) {
        *self.lock() = StatusInner {
            registered,
            last_error,
        };
        if registered {
            self.done.notify_one();
        }
    }
}

/// Registers the bot, retrying until it succeeds or `cancel` fires.
pub async fn run(
    client: BotClient,
    config: Arc<Config>,
    menu: Menu,
    status: Arc<WebhookStatus>,
    identity: watch::Sender<Option<BotIdentity>>,
    cancel: CancellationToken,
) {
    let mut delay = Duration::from_secs(1);
    loop {
        match register_once(&client, &config, &menu(), &identity).await {
            Ok(()) => {
                status.set(true, None);
                match config.intake {
                    Intake::Webhook => {
                        tracing::info!(url = %config.webhook_url, "webhook registered");
                    }
                    Intake::Polling => tracing::info!("registered; polling for updates"),
                }
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
    source: ApiError,
}

/// Names the step a failed call belongs to.
fn step(step: &'static str) -> impl Fn(ApiError) -> StepError {
    move |source| StepError { step, source }
}

async fn register_once(
    client: &BotClient,
    config: &Config,
    menu: &[MenuEntry],
    identity: &watch::Sender<Option<BotIdentity>>,
) -> Result<(), StepError> {
    let me = client
        .call("getMe", &json!({}))
        .await
        .map_err(step("getMe"))?;
    identity.send_replace(Some(parse_identity(&me)));
    match config.intake {
        Intake::Webhook => set_webhook(client, config).await?,
        Intake::Polling => delete_webhook(client).await?,
    }
    // Everyone's menu lists the ordinary commands; the owner's chat lists
    // the owner tools too.
    for params in [
        commands_params(false, None, menu),
        commands_params(true, Some(config.owner_id), menu),
    ] {
        client
            .call("setMyCommands", &params)
            .await
            .map_err(step("setMyCommands"))?;
    }
    Ok(())
}

async fn set_webhook(client: &BotClient, config: &Config) -> Result<(), StepError> {
    // What Telegram had before: worth a line in the log when it differs.
    match client.call("getWebhookInfo", &json!({})).await {
        Ok(info) => {
            for problem in drift(&info, config) {
                tracing::warn!("{problem}");
            }
        }
        Err(e) => tracing::warn!(error = %e, "getWebhookInfo failed; registering anyway"),
    }
    call_set_webhook(client, config)
        .await
        .map_err(step("setWebhook"))?;
    Ok(())
}

/// setWebhook with the configured parameters; with WEBHOOK_CERT_UPLOAD, as
/// multipart with TLS_CERT_FILE as the `certificate` Telegram must trust.
pub async fn call_set_webhook(client: &BotClient, config: &Config) -> Result<Value, ApiError> {
    let params = webhook_params(config);
    match (&config.tls, config.webhook_cert_upload) {
        (Some(tls), true) => {
            client
                .call_with_file("setWebhook", &params, "certificate", &tls.cert)
                .await
        }
        _ => client.call("setWebhook", &params).await,
    }
}

/// getUpdates does not work while a webhook is set, so polling removes it,
/// and says so: the operator's webhook is gone until serve sets it again.
/// Pending updates are kept for getUpdates to fetch.
async fn delete_webhook(client: &BotClient) -> Result<(), StepError> {
    let info = client
        .call("getWebhookInfo", &json!({}))
        .await
        .map_err(step("getWebhookInfo"))?;
    let url = info["url"].as_str().unwrap_or_default();
    if url.is_empty() {
        return Ok(());
    }
    client
        .call("deleteWebhook", &json!({ "drop_pending_updates": false }))
        .await
        .map_err(step("deleteWebhook"))?;
    tracing::warn!(
        webhook = %url,
        "deleted the webhook so that updates can be fetched with getUpdates; \
         telegate serve (or telegate webhook set) registers it again"
    );
    Ok(())
}

fn parse_identity(me: &Value) -> BotIdentity {
    BotIdentity {
        id: me["id"].as_i64().unwrap_or_default(),
        username: me["username"].as_str().unwrap_or_default().to_owned(),
    }
}

/// How the webhook Telegram has differs from the configuration: a wrong
/// URL, a backlog of pending updates, a recent delivery error.
pub fn drift(info: &Value, config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    let url = info["url"].as_str().unwrap_or_default();
    if url.is_empty() {
        problems.push(format!(
            "no webhook was set; setting {}",
            config.webhook_url
        ));
    } else if url != config.webhook_url {
        problems.push(format!(
            "the webhook pointed at {url}, not WEBHOOK_URL; setting {}",
            config.webhook_url
        ));
    }
    if config.webhook_cert_upload && info["has_custom_certificate"] != true && !url.is_empty() {
        problems.push("Telegram has no uploaded certificate for the webhook (WEBHOOK_CERT_UPLOAD=true); uploading TLS_CERT_FILE".to_owned());
    }
    let pending = info["pending_update_count"].as_i64().unwrap_or(0);
    if pending > 0 {
        problems.push(format!(
            "Telegram holds {pending} pending update(s) for the bot"
        ));
    }
    if let Some(message) = info["last_error_message"].as_str() {
        let when = info["last_error_date"]
            .as_i64()
            .map_or_else(String::new, |d| {
                format!(" at {} UTC", crate::timefmt::utc(d * 1000))
            });
        problems.push(format!("Telegram's last delivery error{when}: {message}"));
    }
    problems
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

/// The relay's commands as they are when the menu is set (read at each
/// try, so a reload before the registration succeeds is not undone by it).
pub type Menu = Arc<dyn Fn() -> Vec<MenuEntry> + Send + Sync>;

/// A relay command for the menu: name, description, and whether every
/// allowed user may run it (else only the owner's menu lists it).
pub type MenuEntry = (String, String, bool);

/// setMyCommands for everyone's menu and the owner's, as calls for the
/// outbox (a reload of COMMANDS_FILE changes the menu while serve runs).
pub fn menu_calls(owner: i64, relay: &[MenuEntry]) -> Vec<crate::store::outbox::NewCall> {
    [
        commands_params(false, None, relay),
        commands_params(true, Some(owner), relay),
    ]
    .into_iter()
    .map(|params| crate::store::outbox::NewCall::new(owner, "setMyCommands", params))
    .collect()
}

fn commands_params(owner_tools: bool, chat: Option<i64>, relay: &[MenuEntry]) -> Value {
    let commands: Vec<Value> = COMMANDS
        .iter()
        .filter(|c| owner_tools || c.level != Level::Owner)
        .filter(|c| listed(c, !relay.is_empty()))
        .map(|c| json!({ "command": c.name, "description": c.description }))
        .chain(
            relay
                .iter()
                .filter(|(_, _, everyone)| owner_tools || *everyone)
                .map(
                    |(name, description, _)| json!({ "command": name, "description": description }),
                ),
        )
        .take(100)
        .collect();
    match chat {
        Some(chat_id) => json!({
            "commands": commands,
            "scope": { "type": "chat", "chat_id": chat_id },
        }),
        None => json!({ "commands": commands }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let vars = std::collections::HashMap::from([
            (
                "TELEGRAM_BOT_TOKEN",
                "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX",
            ),
            ("WEBHOOK_URL", "https://bot.example.org/hook"),
            ("WEBHOOK_SECRET", "a-webhook-secret_0123456789abcdef"),
            ("BOT_OWNER_ID", "1"),
        ]);
        Config::from_lookup(|k| vars.get(k).map(|v| (*v).to_owned())).unwrap()
    }

    #[test]
    fn a_matching_webhook_has_no_drift() {
        let info = json!({"url": "https://bot.example.org/hook", "pending_update_count": 0});
        assert!(drift(&info, &config()).is_empty());
    }

    #[test]
    fn a_wrong_url_a_backlog_and_a_delivery_error_are_each_named() {
        let info = json!({
            "url": "https://old.example.org/hook",
            "pending_update_count": 12,
            "last_error_date": 1_795_635_605,
            "last_error_message": "Wrong response from the webhook: 502 Bad Gateway",
        });
        let problems = drift(&info, &config());
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("pointed at https://old.example.org/hook"));
        assert!(problems[1].contains("12 pending update(s)"));
        assert!(problems[2].contains("at 2026-11-25 19:40:05 UTC: Wrong response"));
    }
}
