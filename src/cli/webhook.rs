//! `telegate webhook info|set|delete`: the webhook as Telegram has it.

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::{
    config::Config,
    telegram::{BotClient, register},
    timefmt::utc,
};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Show getWebhookInfo readably, and whether it matches the configuration.
    Info,
    /// Register WEBHOOK_URL with the configured secret, allowed updates and
    /// max connections (serve does this at startup too).
    Set,
    /// Remove the webhook.
    Delete {
        /// Also drop the updates Telegram holds for the bot.
        #[arg(long)]
        drop_pending: bool,
    },
}

pub async fn run(action: Action) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let client = BotClient::new(&config.api_url, &config.bot_token)?;
    match action {
        Action::Info => {
            let info = client
                .call("getWebhookInfo", &json!({}))
                .await
                .context("getWebhookInfo failed")?;
            print!("{}", describe(&info, &config));
        }
        Action::Set => {
            register::call_set_webhook(&client, &config)
                .await
                .context("setWebhook failed")?;
            let uploaded = if config.webhook_cert_upload {
                " (with TLS_CERT_FILE uploaded as its certificate)"
            } else {
                ""
            };
            println!("webhook set to {}{uploaded}", config.webhook_url);
        }
        Action::Delete { drop_pending } => {
            client
                .call(
                    "deleteWebhook",
                    &json!({ "drop_pending_updates": drop_pending }),
                )
                .await
                .context("deleteWebhook failed")?;
            let dropped = if drop_pending {
                ", and the pending updates dropped"
            } else {
                ""
            };
            println!("webhook deleted{dropped}");
        }
    }
    Ok(())
}

/// getWebhookInfo for people.
fn describe(info: &Value, config: &Config) -> String {
    let url = info["url"].as_str().unwrap_or_default();
    let allowed = info["allowed_updates"].as_array().map_or_else(
        || "all but chat_member and the like (Telegram's default)".to_owned(),
        |kinds| {
            kinds
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    let last_error = match info["last_error_date"].as_i64() {
        Some(date) => format!(
            "{} UTC: {}",
            utc(date * 1000),
            info["last_error_message"]
                .as_str()
                .unwrap_or("(no message)")
        ),
        None => "none".to_owned(),
    };
    let matches = if url == config.webhook_url {
        "yes".to_owned()
    } else if url.is_empty() {
        format!(
            "no: no webhook is set (run `telegate webhook set` or start serve for {})",
            config.webhook_url
        )
    } else {
        format!("no: WEBHOOK_URL is {}", config.webhook_url)
    };
    format!(
        "URL:              {}\nPending updates:  {}\nMax connections:  {}\nAllowed updates:  {allowed}\nOwn certificate:  {}\nLast error:       {last_error}\nMatches WEBHOOK_URL: {matches}\n",
        if url.is_empty() { "(none)" } else { url },
        info["pending_update_count"].as_i64().unwrap_or(0),
        info["max_connections"]
            .as_i64()
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
        if info["has_custom_certificate"] == true {
            "yes (uploaded with setWebhook)"
        } else {
            "no"
        },
    )
}
