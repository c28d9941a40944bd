//! The `telegate` executable: configuration errors, the sandbox, logs and
//! SIGTERM.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use telegate::standin::{Fault, StandIn};

use crate::support::{
    BOT_USERNAME, DEADLINE, OWNER, SECRET, TELEGRAM_IP, TOKEN, updates::private_text,
};

/// The executable with a clean environment, in an empty directory (so no
/// .env is read) that lives as long as the returned guard.
pub fn telegate() -> (Command, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_telegate"));
    command
        .env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::null());
    (command, dir)
}

#[test]
fn serve_without_configuration_names_every_missing_variable_and_fails() {
    let (mut telegate, _dir) = telegate();
    let output = telegate.arg("serve").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for variable in [
        "TELEGRAM_BOT_TOKEN",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "BOT_OWNER_ID",
    ] {
        assert!(
            stderr.contains(variable),
            "{variable} not named in: {stderr}"
        );
    }
}

#[test]
fn an_invalid_variable_is_named_and_the_token_is_not_echoed() {
    let (mut telegate, _dir) = telegate();
    let output = telegate
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("WEBHOOK_URL", "http://bot.example.org/hook")
        .env("WEBHOOK_SECRET", SECRET)
        .env("BOT_OWNER_ID", "1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("WEBHOOK_URL") && stderr.contains("https://"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(TOKEN) && !stderr.contains(SECRET),
        "{stderr}"
    );
}

#[test]
fn a_dot_env_file_in_the_working_directory_is_read() {
    let (mut telegate, dir) = telegate();
    let dotenv = format!(
        "TELEGRAM_BOT_TOKEN={TOKEN}\nWEBHOOK_SECRET={SECRET}\nBOT_OWNER_ID=1\nWEBHOOK_URL=https://bot.example.org:9999/hook\n"
    );
    std::fs::write(dir.path().join(".env"), dotenv).unwrap();
    let output = telegate.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 problem(s)") && stderr.contains("WEBHOOK_URL: uses port 9999"),
        "{stderr}"
    );

    std::fs::write(dir.path().join(".env"), "NOT A VALID LINE\n").unwrap();
    let output = telegate.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains(".env: cannot be read: line 1 "),
        "{stderr}"
    );
}

/// An env file the way systemd reads it: an unquoted passphrase with spaces
/// is accepted, and a line that cannot be parsed is named by its number,
/// its content never shown (it may be the passcode).
#[test]
fn an_env_file_line_is_read_as_systemd_reads_it_and_never_echoed() {
    use std::os::unix::fs::PermissionsExt;
    const WORDS: [&str; 4] = ["correct", "horse", "battery", "staple"];
    let (mut telegate, dir) = telegate();
    let env_file = dir.path().join("telegate.env");
    let write = |passcode_line: &str| {
        let text = format!(
            "# the service's env file\nTELEGRAM_BOT_TOKEN={TOKEN}\nWEBHOOK_SECRET={SECRET}\n\
             WEBHOOK_URL=https://bot.telegate.test/telegram/webhook\nBOT_OWNER_ID=1\n\
             TELEGRAM_API_URL=http://127.0.0.1:9\n{passcode_line}\n"
        );
        std::fs::write(&env_file, text).unwrap();
        std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    telegate.args(["--env-file", "telegate.env", "check"]);

    write(&format!("ENROLLMENT_PASSCODE={}", WORDS.join(" ")));
    let output = telegate.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("ok    ENROLLMENT_PASSCODE comes from the env file telegate.env"),
        "{stdout}"
    );

    write(&format!("ENROLLMENT_PASSCODE=\"{}", WORDS.join(" ")));
    let output = telegate.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(!output.status.success());
    assert!(
        stdout.contains("telegate.env cannot be read: line 7 opens a quote that is never closed"),
        "{stdout}{stderr}"
    );
    for word in WORDS {
        assert!(
            !stdout.contains(word) && !stderr.contains(word),
            "{word:?} shown: {stdout}{stderr}"
        );
    }
}

#[test]
fn the_sandbox_answers_ping_with_pong_and_exits_cleanly() {
    let (mut telegate, _dir) = telegate();
    let output = crate::support::output_with_stdin(
        telegate.arg("sandbox"),
        "/ping\n/whoami\n/auth sandbox-passcode\n/users\n",
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "bot> pong", "{stdout}");
    assert!(lines[1].starts_with("bot> Your user id: 10001"), "{stdout}");
    assert!(
        stdout.contains("bot> Session open") && stdout.contains("bot> Owner (BOT_OWNER_ID): 10001"),
        "the owner tools work after /auth: {stdout}"
    );
}

/// `telegate serve` as a child process, against a stand-in in this test.
/// Its log is read as it is written (a full pipe would block the server).
pub struct Served {
    pub child: std::process::Child,
    pub addr: String,
    /// The log so far, and a signal for each line added.
    logs: std::sync::Arc<(std::sync::Mutex<String>, std::sync::Condvar)>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Served {
    /// A test that fails leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// The log so far.
    pub fn logs_now(&self) -> String {
        self.logs.0.lock().unwrap().clone()
    }

    /// Everything logged until the process exited; call after `wait`.
    pub fn finished_logs(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.logs.0.lock().unwrap().clone()
    }
}

pub fn serve(standin: &StandIn, dir: &std::path::Path, extra: &[(&str, &str)]) -> Served {
    start_server("serve", standin, dir, extra, |_| {})
}

/// [`serve`], with `prepare` applied to the command before it is spawned
/// (a resource limit for the child, say).
pub fn serve_prepared(
    standin: &StandIn,
    dir: &std::path::Path,
    extra: &[(&str, &str)],
    prepare: impl FnOnce(&mut Command),
) -> Served {
    start_server("serve", standin, dir, extra, prepare)
}

/// `telegate serve` or `telegate poll`; `addr` is where it listens (serve)
/// or serves /metrics (poll).
fn start_server(
    subcommand: &str,
    standin: &StandIn,
    dir: &std::path::Path,
    extra: &[(&str, &str)],
    prepare: impl FnOnce(&mut Command),
) -> Served {
    let (mut telegate, _empty) = telegate();
    telegate
        .arg(subcommand)
        .current_dir(dir)
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", standin.url())
        .env("WEBHOOK_URL", "https://bot.telegate.test/telegram/webhook")
        .env("WEBHOOK_SECRET", SECRET)
        .env("BOT_OWNER_ID", OWNER.to_string())
        // Port 0: the address it got is read from its log (a port picked
        // here could be taken by another test before telegate binds it).
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", "sqlite:telegate.db")
        .env("SEND_RETRY_BACKOFF", "20ms")
        .env("LOG_LEVEL", "trace")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped());
    for (k, v) in extra {
        telegate.env(k, v);
    }
    prepare(&mut telegate);
    let mut child = telegate.spawn().unwrap();
    let logs = std::sync::Arc::new((
        std::sync::Mutex::new(String::new()),
        std::sync::Condvar::new(),
    ));
    let (listening_tx, listening) = std::sync::mpsc::channel();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let sink = logs.clone();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(addr) = listening_addr(&line) {
                let _ = listening_tx.send(addr);
            }
            sink.0.lock().unwrap().push_str(&line);
            sink.1.notify_all();
            line.clear();
        }
    });
    let addr = listening.recv_timeout(DEADLINE).unwrap_or_else(|e| {
        panic!(
            "telegate {subcommand} did not log that it started ({e}): {}",
            logs.0.lock().unwrap()
        )
    });
    Served {
        child,
        addr,
        logs,
        reader: Some(reader),
    }
}

/// The address in the "telegate is listening" line of a JSON log (or, for
/// poll, the metrics address in its "polling" line).
fn listening_addr(line: &str) -> Option<String> {
    let entry: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = &entry["fields"];
    let addr = match fields["message"].as_str()? {
        "telegate is listening" => &fields["addr"],
        "telegate is polling (no webhook)" => &fields["metrics_addr"],
        _ => return None,
    };
    addr.as_str().map(str::to_owned)
}

async fn post(addr: &str, body: String) {
    let response = frankenstein::reqwest::Client::new()
        .post(format!("http://{addr}/telegram/webhook"))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .header("x-forwarded-for", TELEGRAM_IP)
        .body(body)
        .send()
        .await
        .expect("telegate serve answers");
    assert_eq!(response.status(), 200);
}

/// Stops the server with SIGTERM and returns its whole log.
pub fn stop(served: &mut Served) -> String {
    terminate(&served.child);
    served.child.wait().unwrap();
    served.finished_logs()
}

fn terminate(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn the_token_never_appears_in_the_logs_even_when_the_bot_api_fails() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    standin.fail_next("getMe", Fault::HtmlBadGateway);
    standin.fail_next(
        "sendMessage",
        Fault::Error {
            code: 400,
            description: format!("Bad Request: {TOKEN}"),
            retry_after: None,
        },
    );
    standin.fail_next("sendMessage", Fault::internal_error());
    standin.fail_next("sendMessage", Fault::Drop);
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(&standin, dir.path(), &[]);
    post(&served.addr, private_text(1, OWNER, "/ping").to_string()).await;
    post(&served.addr, private_text(2, OWNER, "/whoami").to_string()).await;
    let texts = standin.wait_texts_to_any(1).await;
    let logs = stop(&mut served);

    assert!(!texts.is_empty());
    assert!(
        logs.contains("reqwest") || logs.contains("hyper"),
        "trace logs of the HTTP client are captured"
    );
    assert!(
        logs.contains("send failed"),
        "the failures are logged: {logs}"
    );
    let key = TOKEN.split_once(':').unwrap().1;
    assert!(!logs.contains(key), "the token leaked into the logs");
    assert!(
        !logs.contains(SECRET),
        "the webhook secret leaked into the logs"
    );
}

#[tokio::test]
async fn sigterm_stops_serve_cleanly_within_ten_seconds() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(&standin, dir.path(), &[]);
    post(&served.addr, private_text(1, OWNER, "/ping").to_string()).await;
    standin.wait_texts_to_any(1).await;
    terminate(&served.child);
    // Wait on the process itself, bounded by the 10 s the issue allows.
    let exited = tokio::task::spawn_blocking(move || (served.child.wait(), served));
    let (status, mut served) = tokio::time::timeout(Duration::from_secs(10), exited)
        .await
        .expect("still running 10 s after SIGTERM")
        .unwrap();
    let status = status.unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(served.finished_logs().contains("shutting down"));
}

trait WaitTexts {
    async fn wait_texts_to_any(&self, count: usize) -> Vec<String>;
}

impl WaitTexts for StandIn {
    async fn wait_texts_to_any(&self, count: usize) -> Vec<String> {
        self.wait_for_texts(count, DEADLINE)
            .await
            .expect("the reply arrives")
    }
}

#[tokio::test]
async fn no_secret_or_message_text_reaches_the_logs_or_the_database_files() {
    const PASSCODE: &str = "correct-horse-battery-42";
    const WRONG: &str = "wrong-guess-plugh-77";
    const NOTE: &str = "my bank pin is 9731";
    const STRANGER: i64 = 5005;
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    // A failing Bot API makes the sender log errors around the passcode replies.
    standin.fail_next("sendMessage", Fault::internal_error());
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(&standin, dir.path(), &[("ENROLLMENT_PASSCODE", PASSCODE)]);
    let messages = [
        (1, STRANGER, "/start"),
        (2, STRANGER, WRONG),
        (3, STRANGER, PASSCODE),
        (4, OWNER, &format!("/auth {PASSCODE}")),
        (5, OWNER, NOTE),
        (6, OWNER, "/users"),
    ];
    for (id, user, text) in messages {
        post(&served.addr, private_text(id, user, text).to_string()).await;
    }
    // Replies: ask, wrong, welcome; owner: enrolled notice, session, note, users.
    let texts = standin.wait_texts_to_any(7).await;
    assert!(
        texts.iter().any(|t| t.starts_with("Owner (BOT_OWNER_ID)")),
        "the session opened with the passcode works: {texts:?}"
    );
    let logs = stop(&mut served);

    assert!(logs.contains("sendMessage"), "trace logs are captured");
    let key = TOKEN.split_once(':').unwrap().1;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(files.iter().any(|(name, _)| name.ends_with("telegate.db")));
    for secret in [PASSCODE, WRONG, NOTE, key, SECRET] {
        assert!(!logs.contains(secret), "{secret:?} is in the logs");
        for (name, bytes) in &files {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret:?} is in {name}");
        }
    }
}

#[tokio::test]
async fn killed_mid_send_and_restarted_it_loses_and_doubles_nothing() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let calm = [9001, 9002, 9003, 9004];
    let hung = 9005;
    // The hung chat's first reply is in flight, unanswered, when the kill comes.
    standin.fail_chat(hung, Fault::Hang);
    let allowed = "9001,9002,9003,9004,9005";
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(&standin, dir.path(), &[("ALLOWED_CHAT_IDS", allowed)]);
    let mut id = 0;
    for round in 0..2 {
        for chat in calm.iter().chain([&hung]) {
            id += 1;
            post(
                &served.addr,
                private_text(id, *chat, &format!("/start {round}")).to_string(),
            )
            .await;
        }
    }
    standin
        .wait_for(DEADLINE, |calls| {
            calls
                .iter()
                .any(|c| c.params["chat_id"] == hung && c.status == 0)
                .then_some(())
        })
        .await
        .expect("the hung chat's reply is in flight");
    // The calm chats' replies are confirmed in the database, not only
    // received: nothing of theirs is between Telegram's answer and the commit.
    let reads = telegate::store::open_reader(&dir.path().join("telegate.db"))
        .await
        .unwrap();
    let confirmed = crate::support::eventually(|| async {
        let sent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND chat_id <> ?",
        )
        .bind(hung)
        .fetch_one(&reads)
        .await
        .unwrap();
        (sent == 8).then_some(())
    })
    .await;
    reads.close().await;
    assert!(confirmed.is_some(), "the calm chats' replies are confirmed");

    served.child.kill().unwrap();
    served.child.wait().unwrap();
    standin.heal();
    let mut served = serve(&standin, dir.path(), &[("ALLOWED_CHAT_IDS", allowed)]);
    post(
        &served.addr,
        private_text(11, calm[0], "/start after").to_string(),
    )
    .await;
    let per_chat = |calls: &[telegate::standin::Call]| {
        let mut counts = std::collections::BTreeMap::new();
        for c in calls
            .iter()
            .filter(|c| c.method == "sendMessage" && c.status == 200)
        {
            *counts
                .entry(c.params["chat_id"].as_i64().unwrap())
                .or_insert(0) += 1;
        }
        counts
    };
    standin
        .wait_for(DEADLINE, |calls| {
            let counts = per_chat(calls);
            (counts.get(&hung) == Some(&2) && counts.get(&calm[0]) == Some(&3)).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("not everything arrived: {:?}", per_chat(&standin.calls())));
    let logs = stop(&mut served);
    // Counted after the stop: nothing more came late.
    let counts = per_chat(&standin.calls());
    let expected: std::collections::BTreeMap<i64, i32> =
        [(9001, 3), (9002, 2), (9003, 2), (9004, 2), (9005, 2)].into();
    assert_eq!(counts, expected, "each reply exactly once; logs: {logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_needs_no_webhook_settings_and_says_it_deleted_the_webhook() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let old = "https://old.example.org/telegram/webhook";
    telegate::telegram::BotClient::new(&standin.url(), &telegate::config::Secret::new(TOKEN))
        .unwrap()
        .call("setWebhook", &serde_json::json!({ "url": old }))
        .await
        .unwrap();
    standin.push_update(private_text(1, OWNER, "/ping"));
    let dir = tempfile::tempdir().unwrap();

    let mut polling = start_server(
        "poll",
        &standin,
        dir.path(),
        &[("WEBHOOK_URL", ""), ("WEBHOOK_SECRET", "")],
        |_| {},
    );
    let texts = standin.wait_for_texts(1, DEADLINE).await;
    let logs = stop(&mut polling);

    assert!(
        texts.is_some_and(|t| t[0].starts_with("pong")),
        "no reply: {logs}"
    );
    assert_eq!(standin.webhook(), serde_json::Value::Null);
    assert!(
        logs.contains("deleted the webhook so that updates can be fetched") && logs.contains(old),
        "{logs}"
    );
    assert!(polling.child.try_wait().unwrap().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_is_refused_while_serve_runs_on_the_same_database() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(&standin, dir.path(), &[]);

    let (mut poll, _empty) = telegate();
    let output = poll
        .arg("poll")
        .current_dir(dir.path())
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", standin.url())
        .env("BOT_OWNER_ID", OWNER.to_string())
        .env("DATABASE_URL", "sqlite:telegate.db")
        .output()
        .unwrap();
    stop(&mut served);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("another telegate is sending from telegate.db"),
        "{stderr}"
    );
}

/// Waits until the log has a line containing `text`.
pub fn wait_logged(served: &Served, text: &str) -> bool {
    let (logs, line_added) = &*served.logs;
    let (_logs, timeout) = line_added
        .wait_timeout_while(logs.lock().unwrap(), DEADLINE, |logs| !logs.contains(text))
        .unwrap();
    !timeout.timed_out()
}

fn hangup(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_makes_serve_reread_its_certificate_without_a_restart() {
    use crate::support::certs::TestCa;
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (old_ca, new_ca) = (
        TestCa::new(&dir.path().join("old")),
        TestCa::new(&dir.path().join("new")),
    );
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    old_ca.issue(&cert, &key);
    let mut served = serve(
        &standin,
        dir.path(),
        &[
            ("TLS_CERT_FILE", "cert.pem"),
            ("TLS_KEY_FILE", "key.pem"),
            ("TELEGRAM_IP_RANGES", "127.0.0.1/32"),
            ("TRUSTED_PROXIES", ""),
        ],
    );
    let health = format!("https://{}/health", served.addr);
    let trusting = |ca: &TestCa| {
        frankenstein::reqwest::Client::builder()
            .tls_certs_only([frankenstein::reqwest::Certificate::from_pem(&ca.pem()).unwrap()])
            .build()
            .unwrap()
    };
    assert!(trusting(&old_ca).get(&health).send().await.is_ok());

    new_ca.issue(&cert, &key);
    hangup(&served.child);
    let reloaded = wait_logged(&served, "SIGHUP: reloaded the TLS certificate");
    let after = trusting(&new_ca).get(&health).send().await;
    let refused = trusting(&old_ca).get(&health).send().await;
    let logs = stop(&mut served);

    assert!(reloaded, "{logs}");
    assert_eq!(after.unwrap().status(), 200);
    assert!(refused.is_err());
    assert!(served.child.try_wait().unwrap().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_without_tls_is_logged_and_does_not_stop_serve() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(&standin, dir.path(), &[]);

    hangup(&served.child);
    let logged = wait_logged(&served, "TLS_CERT_FILE is not set");
    let alive = served.child.try_wait().unwrap().is_none();
    let logs = stop(&mut served);

    assert!(logged && alive, "{logs}");
    assert!(served.child.try_wait().unwrap().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_the_audit_head_at_startup_and_on_shutdown() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(&standin, dir.path(), &[]);
    post(&served.addr, private_text(1, OWNER, "/ping").to_string()).await;
    standin.wait_texts_to_any(1).await;
    let logs = stop(&mut served);

    let heads: Vec<(String, String)> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["fields"]["message"] == telegate::audit_head::MESSAGE)
        .map(|entry| {
            let field = |name: &str| entry["fields"][name].as_str().unwrap().to_owned();
            (field("when"), field("head"))
        })
        .collect();
    let db = telegate::store::open_reader(&dir.path().join("telegate.db"))
        .await
        .unwrap();
    let head = telegate::store::audit_chain::head(&db)
        .await
        .unwrap()
        .unwrap();
    db.close().await;
    assert_eq!(
        heads.first().map(|h| h.0.as_str()),
        Some("startup"),
        "{logs}"
    );
    assert_eq!(
        heads.last(),
        Some(&("shutdown".to_owned(), head.to_string())),
        "the last head logged is the trail's: {logs}"
    );
}

/// As under systemd's LoadCredentialEncrypted=: the secrets are files in
/// $CREDENTIALS_DIRECTORY, and none is in the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_its_secrets_from_a_systemd_credentials_directory() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let credentials = tempfile::tempdir().unwrap();
    for (name, value) in [("TELEGRAM_BOT_TOKEN", TOKEN), ("WEBHOOK_SECRET", SECRET)] {
        std::fs::write(credentials.path().join(name), format!("{value}\n")).unwrap();
    }
    let directory = credentials.path().display().to_string();
    // Blank is unset: the environment holds no secret.
    let mut served = serve(
        &standin,
        dir.path(),
        &[
            ("TELEGRAM_BOT_TOKEN", ""),
            ("WEBHOOK_SECRET", ""),
            ("CREDENTIALS_DIRECTORY", &directory),
        ],
    );
    // Accepted only with the secret from the credential; answered with the token.
    post(&served.addr, private_text(1, OWNER, "/ping").to_string()).await;
    let texts = standin.wait_texts_to_any(1).await;
    let logs = stop(&mut served);

    assert!(texts[0].starts_with("pong"), "{texts:?}");
    assert!(
        !logs.contains(SECRET),
        "the webhook secret leaked into the logs"
    );
}
