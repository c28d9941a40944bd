//! Test support: a real telegate on loopback, a real SQLite file, and the
//! Telegram stand-in as its Bot API.

pub mod certs;
pub mod served;
pub mod tmpfs;
pub mod updates;

use std::{collections::HashMap, future::Future, path::PathBuf, time::Duration};

use frankenstein::reqwest::{Client, Response};
use serde_json::Value;
use telegate::{
    app::{self, Running},
    clock::Clock,
    config::{Config, Intake},
    standin::StandIn,
    store::{Db, inbox},
};
use tempfile::TempDir;

pub const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawTEST";
pub const SECRET: &str = "test-webhook-secret_0123456789abcdef";
pub const OWNER: i64 = 4242;
pub const BOT_USERNAME: &str = "telegate_test_bot";
pub const WEBHOOK_PATH: &str = "/telegram/webhook";
/// An address inside Telegram's default range.
pub const TELEGRAM_IP: &str = "149.154.167.220";
/// How long any test waits for something that should happen at once.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// A telegate server with its own database and stand-in.
pub struct TestApp {
    pub standin: StandIn,
    pub dir: TempDir,
    pub vars: HashMap<String, String>,
    /// The clock the server decides by; tests move it forward.
    pub clock: Clock,
    running: Option<Running>,
    http: Client,
}

impl TestApp {
    /// A server with the default test configuration.
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// A server whose configuration is the default with `overrides` applied.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let app = Self::prepare(overrides).await;
        app.started().await
    }

    /// Everything but the server itself, for tests that arrange the stand-in
    /// or the database before the start.
    pub async fn prepare(overrides: &[(&str, &str)]) -> Self {
        let clock = Clock::system();
        let standin = StandIn::start_with_clock(TOKEN, BOT_USERNAME, clock.clone())
            .await
            .expect("stand-in starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut vars: HashMap<String, String> = [
            ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
            ("TELEGRAM_API_URL", standin.url()),
            (
                "WEBHOOK_URL",
                format!("https://bot.telegate.test{WEBHOOK_PATH}"),
            ),
            ("WEBHOOK_SECRET", SECRET.to_owned()),
            ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
            (
                "DATABASE_URL",
                format!("sqlite:{}", dir.path().join("telegate.db").display()),
            ),
            ("BOT_OWNER_ID", OWNER.to_string()),
            // Retries after network and 5xx errors, quick enough for a test.
            ("SEND_RETRY_BACKOFF", "20ms,50ms".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in overrides {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        Self {
            standin,
            dir,
            vars,
            clock,
            running: None,
            http: Client::new(),
        }
    }

    pub fn config(&self) -> Config {
        Config::from_lookup(|k| self.vars.get(k).cloned()).expect("test configuration is valid")
    }

    /// Starts (or restarts) the server on the same database and stand-in.
    pub async fn started(mut self) -> Self {
        self.start().await;
        self
    }

    pub async fn start(&mut self) {
        self.start_with_config(self.config()).await;
    }

    /// Starts the server with `config`, for what the environment does not
    /// set (a shorter header read timeout).
    pub async fn start_with_config(&mut self, config: Config) {
        assert!(self.running.is_none(), "already running");
        self.running = Some(
            app::start_with_clock(config, self.clock.clone())
                .await
                .expect("telegate starts"),
        );
    }

    /// Starts `telegate poll` instead: updates come from the stand-in's
    /// getUpdates, and no webhook is served.
    pub async fn start_polling(&mut self) {
        assert!(self.running.is_none(), "already running");
        let config = Config::from_lookup_for(Intake::Polling, |k| self.vars.get(k).cloned())
            .expect("test configuration is valid");
        self.running = Some(
            app::start_with_clock(config, self.clock.clone())
                .await
                .expect("telegate poll starts"),
        );
    }

    /// Re-reads TLS_CERT_FILE and TLS_KEY_FILE, as SIGHUP does.
    pub async fn reload_certificate(&self) -> anyhow::Result<()> {
        self.running().reload_certificate().await
    }

    /// Re-reads COMMANDS_FILE, as SIGHUP does.
    pub async fn reload_commands(&self) -> anyhow::Result<Option<usize>> {
        self.running().reload_commands().await
    }

    /// Runs a round of the minute's housekeeping now, instead of waiting
    /// for the timer.
    pub async fn housekeeping_now(&self) {
        self.running()
            .housekeeping_now()
            .await
            .expect("housekeeping runs");
    }

    /// Stops the server the way SIGTERM does.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    fn running(&self) -> &Running {
        self.running.as_ref().expect("the server is running")
    }

    pub fn db(&self) -> &Db {
        self.running().db()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("telegate.db")
    }

    /// GET /metrics, as text.
    pub async fn metrics(&self) -> String {
        let url = format!("http://{}/metrics", self.running().metrics_addr());
        self.http
            .get(url)
            .send()
            .await
            .expect("metrics answer")
            .text()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        let addr = self.running().addr().expect("a webhook server listens");
        format!("http://{addr}{path}")
    }

    /// Posts an update the way nginx forwards Telegram's: right secret, from
    /// a Telegram address.
    pub async fn post_update(&self, update: &Value) -> Response {
        self.post_raw(
            update.to_string(),
            &[
                ("x-telegram-bot-api-secret-token", SECRET),
                ("x-forwarded-for", TELEGRAM_IP),
            ],
        )
        .await
    }

    /// Posts any body with exactly the given headers.
    pub async fn post_raw(&self, body: String, headers: &[(&str, &str)]) -> Response {
        let mut request = self
            .http
            .post(self.url(WEBHOOK_PATH))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("the webhook answers")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("the server answers")
    }

    /// The update's inbox status, `None` when it was never stored.
    pub async fn inbox_status(&self, update_id: i64) -> Option<String> {
        inbox::status(self.db(), update_id)
            .await
            .expect("inbox readable")
    }

    /// Waits until the update has been handled (or given up on).
    pub async fn wait_handled(&self, update_id: i64) -> String {
        eventually(|| async {
            self.inbox_status(update_id)
                .await
                .filter(|s| s != "pending")
        })
        .await
        .unwrap_or_else(|| panic!("update {update_id} was not handled in time"))
    }

    /// Texts sent successfully to `chat_id`, in order.
    pub fn texts_to(&self, chat_id: i64) -> Vec<String> {
        self.standin
            .successful("sendMessage")
            .iter()
            .filter(|p| p["chat_id"].as_i64() == Some(chat_id))
            .map(|p| p["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits until `count` texts have reached `chat_id`, and returns them.
    pub async fn wait_texts_to(&self, chat_id: i64, count: usize) -> Vec<String> {
        self.standin
            .wait_for(DEADLINE, |_| {
                let texts = self.texts_to(chat_id);
                (texts.len() >= count).then_some(texts)
            })
            .await
            .unwrap_or_else(|| {
                panic!(
                    "{count} message(s) to {chat_id} did not arrive; got {:?}",
                    self.texts_to(chat_id)
                )
            })
    }
}

impl TestApp {
    /// `user` sends `text` in their private chat; returns the bot's next
    /// reply there.
    pub async fn say(&self, update_id: i64, user: i64, text: &str) -> String {
        let before = self.texts_to(user).len();
        self.post_update(&updates::private_text(update_id, user, text))
            .await;
        let texts = self.wait_texts_to(user, before + 1).await;
        texts[before].clone()
    }

    /// Message ids deleted in `chat`, in order.
    pub fn deleted_in(&self, chat: i64) -> Vec<i64> {
        self.standin
            .successful("deleteMessage")
            .iter()
            .filter(|p| p["chat_id"].as_i64() == Some(chat))
            .filter_map(|p| p["message_id"].as_i64())
            .collect()
    }

    /// Waits until `count` messages were deleted in `chat`, and returns their ids.
    pub async fn wait_deleted(&self, chat: i64, count: usize) -> Vec<i64> {
        self.standin
            .wait_for(DEADLINE, |_| {
                let ids = self.deleted_in(chat);
                (ids.len() >= count).then_some(ids)
            })
            .await
            .unwrap_or_else(|| panic!("{count} deleteMessage call(s) in {chat} expected"))
    }

    /// The outcomes of the audit rows of `kind`, oldest first.
    pub async fn audit_outcomes_of_kind(&self, kind: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT outcome FROM audit WHERE kind = ? ORDER BY id")
            .bind(kind)
            .fetch_all(self.db())
            .await
            .expect("audit readable")
    }

    /// The outcomes of the audit rows about `user`, oldest first.
    pub async fn audit_outcomes(&self, user: i64) -> Vec<String> {
        sqlx::query_scalar("SELECT outcome FROM audit WHERE user_id = ? ORDER BY id")
            .bind(user)
            .fetch_all(self.db())
            .await
            .expect("audit readable")
    }
}

/// The command names of a setMyCommands call's parameters, in order.
pub fn menu_names(menu: &Value) -> Vec<String> {
    menu["commands"]
        .as_array()
        .expect("a menu has commands")
        .iter()
        .map(|c| c["command"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Polls `probe` until it returns `Some`, within [`DEADLINE`].
pub async fn eventually<T, F, Fut>(probe: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(DEADLINE, probe).await
}

/// [`eventually`] with a deadline of its own, for work that takes long by
/// design (a hundred thousand updates, say).
pub async fn eventually_within<T, F, Fut>(deadline: Duration, probe: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let polling = async {
        loop {
            if let Some(found) = probe().await {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(deadline, polling).await.ok()
}

/// Runs `telegate ARGS` with the app's configuration and `stdin`; returns
/// (success, stdout, stderr). On a blocking thread: the stand-in runs on
/// this test's runtime and must keep answering meanwhile.
pub async fn run_telegate(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String, String) {
    let vars = app.vars.clone();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || run_blocking(&vars, &args, &stdin))
        .await
        .unwrap()
}

fn run_blocking(
    vars: &std::collections::HashMap<String, String>,
    args: &[String],
    stdin: &str,
) -> (bool, String, String) {
    let (mut command, _dir) = crate::binary::telegate();
    let output = output_with_stdin(command.envs(vars).args(args), stdin);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Whether `program` runs (with `arg`, such as `-v`). A missing one is
/// skipped with a message, unless `require` is set in the environment
/// (`.ci/run` sets it, so CI fails instead); `package` says how to get it.
pub fn tool_installed(program: &str, arg: &str, require: &str, package: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg(arg)
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os(require).is_none(),
            "{program} is not installed (apt-get install {package})"
        );
        eprintln!("skipped: {program} is not installed (CI installs it)");
    }
    found
}

/// Runs `command` to its end with `stdin` as its input (blocking).
pub fn output_with_stdin(command: &mut std::process::Command, stdin: &str) -> std::process::Output {
    use std::{io::Write, process::Stdio};
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
