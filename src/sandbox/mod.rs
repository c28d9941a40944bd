//! `telegate sandbox`: the real server pipeline against the built-in Telegram
//! stand-in, chatted with from the terminal. Each line typed is sent as an
//! update from the owner through the real webhook path (secret, address check
//! and all), and each reply is printed as it is sent, each edit as it is
//! made. Inline keyboards are shown as numbered buttons: typing a number
//! presses one (a callback_query through the same webhook).

mod press;
mod render;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
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
    relay::spec::{self, CommandsFile},
    standin::{Call, StandIn},
    store::{inbox, outbox},
    telegram::{BotClient, register},
};
use press::Typed;
use render::{Screen, Slot};

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
        let typed = press::read(text, &lock(&screen));
        let update = match typed {
            Typed::Message(text) => owner_message(update_id + 1, text),
            Typed::Press(slot) => match pressed(standin, update_id + 1, &slot) {
                Ok(update) => update,
                Err(note) => {
                    eprintln!("{note}");
                    continue;
                }
            },
            Typed::Hint(hint) => {
                eprintln!("{hint}");
                continue;
            }
        };
        update_id += 1;
        if webhook.post(&update).await? {
            wait_until_answered(running, update_id).await;
        }
    }
    // Whatever came after the printer's last look is shown before leaving.
    printer.abort();
    let _ = printer.await;
    let seen = lock(&screen).seen;
    print(shown(
        &screen,
        &standin.calls_after(seen, Duration::ZERO).await,
    ));
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

/// Shows each call as it arrives (edits too, while the person types
/// nothing), woken by the stand-in rather than polling it. `emit` prints.
async fn print_calls(
    standin: Arc<StandIn>,
    screen: Arc<Mutex<Screen>>,
    emit: impl Fn(Vec<String>) + Send + 'static,
) {
    loop {
        let seen = lock(&screen).seen;
        let calls = standin.calls_after(seen, Duration::from_secs(3600)).await;
        emit(shown(&screen, &calls));
    }
}

/// The lines that show `calls`.
fn shown(screen: &Mutex<Screen>, calls: &[Call]) -> Vec<String> {
    let mut screen = lock(screen);
    calls.iter().flat_map(|call| screen.show(call)).collect()
}

fn print(lines: Vec<String>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// The update for a press of the button, or why there is none (the message
/// no longer has it, or it is a link).
fn pressed(standin: &StandIn, update_id: i64, slot: &Slot) -> Result<Value, String> {
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
struct Webhook {
    http: frankenstein::reqwest::Client,
    url: String,
    secret: String,
}

impl Webhook {
    /// Whether the webhook took the update.
    async fn post(&self, update: &Value) -> anyhow::Result<bool> {
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
async fn first_update_id(running: &Running) -> i64 {
    crate::store::inbox::last_update_id(running.db())
        .await
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// Waits (bounded) until the update is handled and its replies are sent,
/// so that lines piped in are answered in turn. A command still running
/// then goes on showing its edits.
async fn wait_until_answered(running: &Running, update_id: i64) {
    let deadline = Instant::now() + REPLY_DEADLINE;
    let db = running.db();
    let mut handled = false;
    while Instant::now() < deadline {
        handled = handled
            || inbox::status(db, update_id)
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
    if !handled {
        eprintln!("(no answer within {} s)", REPLY_DEADLINE.as_secs());
    }
}

/// The owner, as Telegram describes the sender.
fn owner() -> Value {
    json!({"id": OWNER_ID, "is_bot": false, "first_name": "Owner", "language_code": "en"})
}

fn owner_message(update_id: i64, text: &str) -> Value {
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
