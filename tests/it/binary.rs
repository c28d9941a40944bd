//! The `telegate` executable: configuration errors, the sandbox, logs and
//! SIGTERM.

use std::{
    io::Read,
    process::{Command, Stdio},
    time::{Duration, Instant},
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
        !output.status.success() && stderr.contains(".env: cannot be read"),
        "{stderr}"
    );
}

#[test]
fn the_sandbox_answers_ping_with_pong_and_exits_cleanly() {
    let (mut telegate, _dir) = telegate();
    let mut child = telegate
        .arg("sandbox")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/ping\n/whoami\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
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
}

/// `telegate serve` as a child process, against a stand-in in this test.
struct Served {
    child: std::process::Child,
    addr: String,
}

fn serve(standin: &StandIn, dir: &std::path::Path, port: u16) -> Served {
    let addr = format!("127.0.0.1:{port}");
    let (mut telegate, _empty) = telegate();
    let child = telegate
        .current_dir(dir)
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", standin.url())
        .env("WEBHOOK_URL", "https://bot.example.org/telegram/webhook")
        .env("WEBHOOK_SECRET", SECRET)
        .env("BOT_OWNER_ID", OWNER.to_string())
        .env("LISTEN_ADDR", &addr)
        .env("DATABASE_URL", "sqlite:telegate.db")
        .env("SEND_RETRY_BACKOFF", "20ms")
        .env("LOG_LEVEL", "trace")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Served { child, addr }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn post_when_up(addr: &str, body: String) {
    let client = frankenstein::reqwest::Client::new();
    let url = format!("http://{addr}/telegram/webhook");
    let started = Instant::now();
    loop {
        let sent = client
            .post(&url)
            .header("x-telegram-bot-api-secret-token", SECRET)
            .header("x-forwarded-for", TELEGRAM_IP)
            .body(body.clone())
            .send()
            .await;
        if let Ok(response) = sent {
            assert_eq!(response.status(), 200);
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "telegate serve did not come up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    let mut served = serve(&standin, dir.path(), free_port());
    post_when_up(&served.addr, private_text(1, OWNER, "/ping").to_string()).await;
    post_when_up(&served.addr, private_text(2, OWNER, "/whoami").to_string()).await;
    let texts = standin.wait_texts_to_any(1).await;
    terminate(&served.child);
    let mut logs = String::new();
    served
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    served.child.wait().unwrap();

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
    let served = serve(&standin, dir.path(), free_port());
    post_when_up(&served.addr, private_text(1, OWNER, "/ping").to_string()).await;
    standin.wait_texts_to_any(1).await;
    terminate(&served.child);
    // Wait on the process itself, bounded by the 10 s the issue allows.
    let mut child = served.child;
    let exited = tokio::task::spawn_blocking(move || child.wait());
    let status = tokio::time::timeout(Duration::from_secs(10), exited)
        .await
        .expect("still running 10 s after SIGTERM")
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
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
