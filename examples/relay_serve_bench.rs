//! The relay benchmark under `telegate serve`: 20 users each start a job
//! through the webhook at the same moment, every job printing 10,000 lines.
//!
//! `cargo run --release --example relay_serve_bench`
//!
//! serve runs as a child process (the release binary beside this example,
//! rebuilt first under `cargo run`), so /proc/PID/status of that child is
//! serve's memory alone; its Bot API is the Telegram stand-in in this
//! process, which enforces Telegram's flood limits and answers 429 past
//! them. Reports serve's memory, the time until all 20 jobs are done and
//! until their documents arrived, and the 429s; checks that every job
//! succeeded and that each final document holds every line 0..9999, in
//! order. Exits with status 1 when a check fails. See docs/BENCHMARKS.md.

#[path = "common/serve_child.rs"]
mod serve_child;

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use serve_child::{ServeChild, wait_ready};
use telegate::{standin::StandIn, store};

const TOKEN: &str = "123456789:BENCHbenchBENCHbench_-0123456789abc";
const SECRET: &str = "bench-webhook-secret-0123456789abcdef";
const OWNER: i64 = 70_000;
/// The users are 70001..=70020, each in their own private chat.
const FIRST_USER: i64 = 70_001;
const USERS: i64 = 20;
const LINES: usize = 10_000;
const SCRIPT: &str = r#"i=0; while [ $i -lt 10000 ]; do echo "line $i"; i=$((i+1)); done"#;
/// How long the whole run may take before it counts as failed.
const LIMIT: Duration = Duration::from_secs(300);

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let binary = locate_telegate()?;
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let standin = StandIn::start(TOKEN, "bench_bot").await?;
    let dir = tempfile::tempdir()?;
    let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut serve = ServeChild(start_serve(&binary, dir.path(), &standin.url(), addr)?);
    wait_ready(addr).await?;
    let idle_mb = memory_mb(serve.0.id(), "VmRSS")?;

    let began = Instant::now();
    let began_ms = unix_ms();
    let posts: Vec<_> = (0..USERS)
        .map(|n| tokio::spawn(post(addr, n + 1, FIRST_USER + n, "/lines")))
        .collect();
    for posted in posts {
        posted.await??;
    }
    let documents = standin
        .wait_for(LIMIT, |calls| {
            let docs: Vec<Value> = calls
                .iter()
                .filter(|c| c.method == "sendDocument" && c.status == 200)
                .map(|c| c.params.clone())
                .collect();
            (docs.len() >= USERS as usize).then_some(docs)
        })
        .await
        .with_context(|| format!("not all {USERS} documents arrived within {LIMIT:?}"))?;
    let documents_s = began.elapsed().as_secs_f64();
    let peak_mb = memory_mb(serve.0.id(), "VmHWM")?;
    let rss_mb = memory_mb(serve.0.id(), "VmRSS")?;
    serve.stop()?;

    let listed = {
        let reads = store::open_reader(&dir.path().join("bench.db")).await?;
        let listed = store::jobs::recent(&reads, None, false, 1000).await?;
        reads.close().await;
        listed
    };
    let succeeded = listed.iter().filter(|j| j.state == "succeeded").count();
    let done_ms = listed.iter().filter_map(|j| j.ended_at).max().unwrap_or(0);
    let done_s = (done_ms - began_ms) as f64 / 1000.0;
    let whole = documents.iter().filter(|d| holds_every_line(d)).count();
    let edits = standin
        .calls()
        .iter()
        .filter(|c| c.method == "editMessageText" && c.status == 200)
        .count();
    let refused = standin.too_many_requests();

    println!(
        "| jobs | lines each | jobs succeeded | all done s | all documents s | documents with every line | edits | 429s | serve idle RSS MB | serve peak RSS (VmHWM) MB | RSS after MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {USERS} | {LINES} | {succeeded} | {done_s:.2} | {documents_s:.2} | {whole} | {edits} | {refused} | {idle_mb:.1} | {peak_mb:.1} | {rss_mb:.1} |"
    );
    println!(
        "- load average before the run (1, 5, 15 min): {}",
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let users = usize::try_from(USERS)?;
    let passed = listed.len() == users
        && succeeded == users
        && whole == users
        && distinct_chats(&documents) == users
        && refused == 0
        && peak_mb < 60.0;
    if !passed {
        eprintln!(
            "FAILED: {} jobs, {succeeded} succeeded, {whole} whole documents to {} chats, {refused} 429s, peak {peak_mb:.1} MB (target < 60)",
            listed.len(),
            distinct_chats(&documents)
        );
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `<target>/release/examples/relay_serve_bench` runs this, so serve is
/// `<target>/release/telegate`; under `cargo run` it is rebuilt first, so a
/// stale binary is never measured.
fn locate_telegate() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .context("no profile directory")?;
    if profile.file_name().and_then(|n| n.to_str()) != Some("release") {
        bail!("benchmark release builds: cargo run --release --example relay_serve_bench");
    }
    if let Some(cargo) = std::env::var_os("CARGO") {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let status = Command::new(cargo)
            .args(["build", "--release", "--bin", "telegate", "--manifest-path"])
            .arg(manifest)
            .status()?;
        if !status.success() {
            bail!("building telegate failed");
        }
    }
    let binary = profile.join("telegate");
    if !binary.is_file() {
        bail!(
            "{} is missing: run `cargo build --release --bin telegate` first",
            binary.display()
        );
    }
    Ok(binary)
}

/// `telegate serve` with one relay command, `/lines`, and 20 allowed users
/// who may each run it at once.
fn start_serve(
    binary: &Path,
    dir: &Path,
    api_url: &str,
    addr: SocketAddr,
) -> anyhow::Result<Child> {
    let commands = dir.join("commands.toml");
    std::fs::write(
        &commands,
        format!(
            "[[command]]\nname = \"lines\"\ndescription = \"prints {LINES} lines\"\nprogram = \"/bin/sh\"\nargs = [\"-c\", {SCRIPT:?}]\ntimeout = \"5m\"\n"
        ),
    )?;
    let users: Vec<String> = (0..USERS).map(|n| (FIRST_USER + n).to_string()).collect();
    let child = Command::new(binary)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", api_url)
        .env("WEBHOOK_URL", "https://bench.invalid/telegram/webhook")
        .env("WEBHOOK_SECRET", SECRET)
        .env("LISTEN_ADDR", addr.to_string())
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite:{}", dir.join("bench.db").display()),
        )
        .env("BOT_OWNER_ID", OWNER.to_string())
        .env("ALLOWED_CHAT_IDS", users.join(","))
        .env("COMMANDS_FILE", &commands)
        .env("RELAY_MAX_RUNNING", USERS.to_string())
        // Loopback is "Telegram", connecting directly.
        .env("TELEGRAM_IP_RANGES", "127.0.0.1/32")
        .env("TRUSTED_PROXIES", "")
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    Ok(child)
}

/// `user` sends `text` in their private chat, as Telegram posts it.
async fn post(addr: SocketAddr, update_id: i64, user: i64, text: &str) -> anyhow::Result<()> {
    let length = text.split_whitespace().next().unwrap_or_default().len();
    let update = json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": user, "is_bot": false, "first_name": "Bench"},
            "chat": {"id": user, "type": "private", "first_name": "Bench"},
            "date": 1_700_000_000,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": length}],
        }
    });
    let response = frankenstein::reqwest::Client::new()
        .post(format!("http://{addr}/telegram/webhook"))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .header("content-type", "application/json")
        .body(update.to_string())
        .send()
        .await?;
    if response.status() != 200 {
        bail!("the webhook answered {}", response.status());
    }
    Ok(())
}

/// Whether a sendDocument's file is exactly `line 0` to `line 9999`.
fn holds_every_line(params: &Value) -> bool {
    let content = params["document"]["content"].as_str().unwrap_or_default();
    let mut lines = content.lines();
    (0..LINES).all(|i| lines.next() == Some(format!("line {i}").as_str())) && lines.next().is_none()
}

/// How many chats got a document.
fn distinct_chats(documents: &[Value]) -> usize {
    let chats: std::collections::BTreeSet<i64> = documents
        .iter()
        .filter_map(|d| d["chat_id"].as_i64())
        .collect();
    chats.len()
}

/// A memory figure of /proc/PID/status, in MB (10^6 bytes).
fn memory_mb(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?
        .trim()
        .trim_end_matches(" kB")
        .parse()?;
    Ok(kb * 1024.0 / 1e6)
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
