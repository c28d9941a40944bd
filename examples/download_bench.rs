//! Sending a 30 MB file from disk: serve's memory while it streams the file
//! into a multipart upload.
//!
//! `cargo run --release --example download_bench`
//!
//! serve runs as a child process (the release binary beside this example,
//! rebuilt first under `cargo run`), so /proc/PID/status of that child is
//! serve's memory alone; its Bot API is the Telegram stand-in in this
//! process (which holds the whole upload: that is the stand-in's memory,
//! not serve's). `telegate notify --file` queues the file in serve's outbox;
//! serve opens it when it sends it and streams it from the open file. Reports
//! serve's idle and peak RSS and the time the upload took; checks that the
//! stand-in received every byte and that the peak stays under 60 MB. Exits
//! with status 1 when a check fails. See docs/BENCHMARKS.md.

#[path = "common/serve_child.rs"]
mod serve_child;

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serve_child::{ServeChild, wait_ready};
use telegate::standin::StandIn;

const TOKEN: &str = "123456789:BENCHbenchBENCHbench_-0123456789abc";
const SECRET: &str = "bench-webhook-secret-0123456789abcdef";
const OWNER: i64 = 70_000;
const SIZE: usize = 30 * 1000 * 1000;
/// How long the upload may take before it counts as failed.
const LIMIT: Duration = Duration::from_secs(120);
const TARGET_MB: f64 = 60.0;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let binary = locate_telegate()?;
    let standin = StandIn::start(TOKEN, "bench_bot").await?;
    let dir = tempfile::tempdir()?;
    let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let vars = variables(dir.path(), &standin.url(), addr);
    let mut serve = ServeChild(
        Command::new(&binary)
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?,
    );
    wait_ready(addr).await?;
    let idle_mb = memory_mb(serve.0.id(), "VmRSS")?;

    let file = dir.path().join("report.bin");
    let line = b"0123456789abcdefghijklmnopqrstuvwxyz\n";
    let content: Vec<u8> = line.iter().copied().cycle().take(SIZE).collect();
    std::fs::write(&file, &content)?;
    let began = Instant::now();
    let notify = Command::new(&binary)
        .args(["notify", "--file"])
        .arg(&file)
        .current_dir(dir.path())
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .output()?;
    if !notify.status.success() {
        bail!("notify failed: {}", String::from_utf8_lossy(&notify.stderr));
    }
    let received = standin
        .wait_for(LIMIT, |calls| {
            calls
                .iter()
                .find(|c| c.method == "sendDocument" && c.status == 200)
                .map(|c| c.params["document"].clone())
        })
        .await
        .with_context(|| format!("the file did not arrive within {LIMIT:?}"))?;
    let upload_s = began.elapsed().as_secs_f64();
    let peak_mb = memory_mb(serve.0.id(), "VmHWM")?;
    let rss_mb = memory_mb(serve.0.id(), "VmRSS")?;
    serve.stop()?;

    let whole = received["size"].as_u64() == Some(SIZE as u64)
        && received["content"].as_str().map(str::as_bytes) == Some(content.as_slice());
    println!(
        "| file MB | sent s | received whole | serve idle RSS MB | serve peak RSS (VmHWM) MB | RSS after MB |"
    );
    println!("|---:|---:|---|---:|---:|---:|");
    println!(
        "| {:.0} | {upload_s:.2} | {} | {idle_mb:.1} | {peak_mb:.1} | {rss_mb:.1} |",
        SIZE as f64 / 1e6,
        if whole { "yes" } else { "no" }
    );
    let passed = whole && peak_mb < TARGET_MB;
    if !passed {
        eprintln!("FAILED: received whole: {whole}, peak {peak_mb:.1} MB (target < {TARGET_MB})");
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn variables(dir: &Path, api_url: &str, addr: SocketAddr) -> Vec<(String, String)> {
    [
        ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
        ("TELEGRAM_API_URL", api_url.to_owned()),
        (
            "WEBHOOK_URL",
            "https://bench.invalid/telegram/webhook".to_owned(),
        ),
        ("WEBHOOK_SECRET", SECRET.to_owned()),
        ("LISTEN_ADDR", addr.to_string()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            format!("sqlite:{}", dir.join("bench.db").display()),
        ),
        ("BOT_OWNER_ID", OWNER.to_string()),
        ("TELEGRAM_IP_RANGES", "127.0.0.1/32".to_owned()),
        ("TRUSTED_PROXIES", String::new()),
        ("LOG_LEVEL", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `<target>/release/examples/download_bench` runs this, so serve is
/// `<target>/release/telegate`; under `cargo run` it is rebuilt first.
fn locate_telegate() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .context("no profile directory")?;
    if profile.file_name().and_then(|n| n.to_str()) != Some("release") {
        bail!("benchmark release builds: cargo run --release --example download_bench");
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
