//! `telegate sandbox`: the real server pipeline against the built-in Telegram
//! stand-in, chatted with from the terminal. Each line typed is sent as an
//! update from the owner through the real webhook path (secret, address check
//! and all), and each reply is printed as it is sent, each edit as it is
//! made. Inline keyboards are shown as numbered buttons: typing a number
//! presses one (a callback_query through the same webhook).

mod press;
mod printer;
mod render;
mod updates;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{
    app::{self, Running},
    config::{Config, LogFormat},
    logging,
    relay::spec::{self, CommandsFile},
    standin::StandIn,
    telegram::{BotClient, register},
};
use press::Typed;
use printer::{catch_up, print, print_calls};
use render::Screen;
use updates::{
    Webhook, first_update_id, owner_message, pressed, wait_until_handled, wait_until_idle,
    wait_until_sent,
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

/// Runs the sandbox until stdin ends. With `commands`, the relay runs the
/// commands of that file (checked first: a bad file stops it, naming the
/// lines).
pub async fn run(database: Option<PathBuf>, commands: Option<PathBuf>) -> anyhow::Result<()> {
    let commands = commands.map(|path| check_commands(&path)).transpose()?;
    let token = format!("1000000001:SANDBOX{}", unique(32));
    let secret = unique(32);
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "warn".into());
    logging::init(
        &level,
        LogFormat::Pretty,
        vec![token.clone(), secret.clone()],
    );
    // The passcode is public here (it is printed), so it is not redacted.
    let commands_file = commands.as_ref().map(|(path, _)| path.as_path());
    let sandbox = Sandbox::start(token, secret, database, commands_file).await?;
    intro(commands.as_ref());

    let Sandbox {
        standin,
        running,
        webhook,
        ..
    } = &sandbox;
    let screen = Arc::new(Mutex::new(Screen::new(OWNER_ID)));
    let printer = tokio::spawn(print_calls(standin.clone(), screen.clone(), print));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut update_id = first_update_id(running).await;
    while let Some(line) = lines.next_line().await? {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let Some(update) = sandbox
            .update_for(text, update_id + 1, &screen, &print)
            .await
        else {
            continue;
        };
        update_id += 1;
        if webhook.post(&update).await? {
            wait_until_handled(running, update_id).await;
        }
    }
    // Whatever came after the printer's last look is shown before leaving.
    wait_until_idle(running).await;
    printer.abort();
    let _ = printer.await;
    catch_up(standin, &screen, &print).await;
    sandbox.running.shutdown().await;
    Ok(())
}

/// The server and its stand-in, running.
struct Sandbox {
    standin: Arc<StandIn>,
    running: Running,
    webhook: Webhook,
    /// Holds the database unless `--database` names one.
    _scratch: tempfile::TempDir,
}

impl Sandbox {
    async fn start(
        token: String,
        secret: String,
        database: Option<PathBuf>,
        commands_file: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let standin = StandIn::start(&token, BOT_USERNAME)
            .await
            .context("cannot start the Telegram stand-in")?;
        let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
        let database = database.unwrap_or_else(|| scratch.path().join("sandbox.db"));
        let mut vars = HashMap::from([
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
        if let Some(path) = commands_file {
            vars.insert("COMMANDS_FILE", path.display().to_string());
        }
        let config = Config::from_lookup(|k| vars.get(k).cloned())?;
        preregister(&standin, &config).await?;
        let path = config.webhook_path.clone();
        let running = app::start(config).await?;
        let addr = running.addr().context("the sandbox serves a webhook")?;
        let webhook = Webhook {
            http: frankenstein::reqwest::Client::new(),
            url: format!("http://{addr}{path}"),
            secret,
        };
        Ok(Self {
            standin: Arc::new(standin),
            running,
            webhook,
            _scratch: scratch,
        })
    }

    /// The update a typed line stands for: a message, or a button press;
    /// `None` when it stands for nothing (a note says why).
    async fn update_for(
        &self,
        text: &str,
        update_id: i64,
        screen: &Mutex<Screen>,
        emit: &impl Fn(Vec<String>),
    ) -> Option<Value> {
        if text.parse::<u32>().is_ok() {
            // It may name a button of a reply not shown yet (lines piped in
            // come faster than replies): every reply is shown first.
            wait_until_sent(&self.running).await;
            catch_up(&self.standin, screen, emit).await;
        }
        let typed = press::read(text, &lock(screen));
        match typed {
            Typed::Message(text) => Some(owner_message(update_id, text)),
            Typed::Press(slot) => pressed(&self.standin, update_id, &slot)
                .map_err(|note| eprintln!("{note}"))
                .ok(),
            Typed::Hint(hint) => {
                eprintln!("{hint}");
                None
            }
        }
    }
}

/// The commands file, checked as `telegate commands check` does.
fn check_commands(path: &Path) -> anyhow::Result<(PathBuf, CommandsFile)> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match spec::load(&path) {
        Ok(file) => Ok((path, file)),
        Err(e) => anyhow::bail!(
            "{e}\nFix it (telegate commands check --file {} checks it again), or start the sandbox without --commands.",
            path.display()
        ),
    }
}

/// Sets the webhook before serve starts, as a deployment that ran before
/// has it, so that serve finds nothing to warn about.
async fn preregister(standin: &StandIn, config: &Config) -> anyhow::Result<()> {
    let client = BotClient::new(&standin.url(), &config.bot_token)?;
    register::call_set_webhook(&client, config)
        .await
        .context("cannot set the stand-in's webhook")?;
    Ok(())
}

/// How to use the sandbox, on stderr (stdout holds the conversation).
fn intro(commands: Option<&(PathBuf, CommandsFile)>) {
    eprintln!(
        "telegate sandbox: you are the owner (user id {OWNER_ID}) chatting with @{BOT_USERNAME}."
    );
    eprintln!("Type a command such as /help or /ping; Ctrl-D ends the session.");
    eprintln!(
        "Sensitive commands need a session: /auth {PASSCODE} (so do the owner tools: /users, /audit ...)"
    );
    eprintln!("Buttons are shown as [1] [2] ...: type a button's number to press it.");
    if let Some((path, file)) = commands {
        let names: Vec<String> = file
            .commands
            .iter()
            .map(|c| format!("/{}", c.name))
            .collect();
        eprintln!(
            "Relay commands from {}: {}",
            path.display(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(" ")
            }
        );
    }
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
