//! `telegate sandbox`: the real server pipeline against the built-in Telegram
//! stand-in, chatted with from the terminal. Each line typed is sent as an
//! update from the owner through the real webhook path (secret, address check
//! and all), and each reply is printed.

use std::{
    collections::HashMap,
    io::IsTerminal,
    path::PathBuf,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{
    app::{self, Running},
    config::{Config, LogFormat},
    http::SECRET_HEADER,
    logging,
    standin::StandIn,
    store::{inbox, outbox},
};

/// The sandbox owner's user id (and so the private chat's id).
pub const OWNER_ID: i64 = 10_001;
const BOT_USERNAME: &str = "telegate_sandbox_bot";
/// Where the sandbox's updates claim to come from: inside Telegram's range,
/// forwarded by the loopback "proxy", as nginx would.
const TELEGRAM_ADDRESS: &str = "149.154.167.220";
const REPLY_DEADLINE: Duration = Duration::from_secs(10);
/// Opens a session for the owner tools (`/auth sandbox-passcode`).
pub const PASSCODE: &str = "sandbox-passcode";

pub async fn run(database: Option<PathBuf>) -> anyhow::Result<()> {
    let token = format!("1000000001:SANDBOX{}", unique(32));
    let secret = unique(32);
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "warn".into());
    logging::init(
        &level,
        LogFormat::Pretty,
        vec![token.clone(), secret.clone()],
    );
    // The passcode is public here (it is printed), so it is not redacted.

    let standin = StandIn::start(&token, BOT_USERNAME)
        .await
        .context("cannot start the Telegram stand-in")?;
    let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
    let database = database.unwrap_or_else(|| scratch.path().join("sandbox.db"));
    let vars = HashMap::from([
        ("TELEGRAM_BOT_TOKEN", token),
        ("TELEGRAM_API_URL", standin.url()),
        (
            "WEBHOOK_URL",
            "https://sandbox.invalid/telegram/webhook".to_owned(),
        ),
        ("WEBHOOK_SECRET", secret.clone()),
        ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", format!("sqlite:{}", database.display())),
        ("BOT_OWNER_ID", OWNER_ID.to_string()),
        ("ENROLLMENT_PASSCODE", PASSCODE.to_owned()),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).cloned())?;
    let path = config.webhook_path.clone();
    let running = app::start(config).await?;
    let addr = running.addr().context("the sandbox serves a webhook")?;
    let url = format!("http://{addr}{path}");

    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!(
            "telegate sandbox: you are the owner (user id {OWNER_ID}) chatting with @{BOT_USERNAME}."
        );
        eprintln!("Type a command such as /help or /ping; Ctrl-D ends the session.");
        eprintln!("The owner tools (/users, /audit ...) need a session: /auth {PASSCODE}");
    }
    let http = frankenstein::reqwest::Client::new();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut printed = 0;
    let mut update_id = first_update_id(&running).await;
    while let Some(line) = lines.next_line().await? {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        update_id += 1;
        let status = http
            .post(&url)
            .header(SECRET_HEADER, &secret)
            .header("x-forwarded-for", TELEGRAM_ADDRESS)
            .header("content-type", "application/json")
            .body(owner_message(update_id, text).to_string())
            .send()
            .await
            .context("cannot reach the webhook")?
            .status();
        if status != 200 {
            eprintln!("the webhook answered {status}");
            continue;
        }
        wait_until_answered(&running, update_id).await;
        let replies = standin.successful("sendMessage");
        for reply in &replies[printed..] {
            println!("bot> {}", reply["text"].as_str().unwrap_or_default());
        }
        printed = replies.len();
    }
    running.shutdown().await;
    Ok(())
}

/// Continues after the updates of an earlier session kept in `--database`.
async fn first_update_id(running: &Running) -> i64 {
    crate::store::inbox::last_update_id(running.db())
        .await
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// Waits (bounded) until the update is handled and its replies are sent.
async fn wait_until_answered(running: &Running, update_id: i64) {
    let deadline = Instant::now() + REPLY_DEADLINE;
    let db = running.db();
    while Instant::now() < deadline {
        let handled = inbox::status(db, update_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|s| s != "pending");
        let sent = outbox::count_pending(db).await.is_ok_and(|n| n == 0);
        if handled && sent {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("(no answer within {} s)", REPLY_DEADLINE.as_secs());
}

fn owner_message(update_id: i64, text: &str) -> Value {
    let date = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut message = json!({
        "message_id": update_id,
        "from": {"id": OWNER_ID, "is_bot": false, "first_name": "Owner", "language_code": "en"},
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

/// A throwaway value for the sandbox's token and secret (not for real secrets).
fn unique(len: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    while out.len() < len {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(len);
    out
}
