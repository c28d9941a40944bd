//! The webhook benchmark: how many updates per second telegate stores and
//! acknowledges, at what latency and memory, against a bare axum server on
//! the same stack that stores nothing (the ceiling).
//!
//! `cargo run --release --example webhook_bench -- --connections 50 --seconds 10`
//!
//! With `--tls`, telegate terminates TLS itself (TLS_CERT_FILE, a certificate
//! made with openssl) and the load connects over TLS; the bare server stays
//! plain HTTP, the ceiling.
//!
//! Both servers run as child processes; the Telegram stand-in and the load
//! generator run in this one. See docs/BENCHMARKS.md.

mod load;
mod server;

use std::{
    path::Path,
    process::ExitCode,
    sync::{Arc, atomic::AtomicI64},
    time::{Duration, Instant},
};

use clap::Parser;
use sqlx::{Connection, sqlite::SqliteConnectOptions};
use telegate::standin::StandIn;
use tokio::process::Command;

use anyhow::Context;
use load::{Load, OWNER_ID, Outcome, Transport, WEBHOOK_PATH};
use server::{Binaries, Server, free_addr};

const TOKEN: &str = "123456789:BENCHbenchBENCHbench_-0123456789abc";
const SECRET: &str = "bench-webhook-secret_0123456789abcdef";

/// Load-test telegate's webhook against a bare axum server.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 50)]
    connections: usize,
    /// Length of the measured phase, per server.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Length of the warm-up before it, per server.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Do not (re)build telegate and bare_webhook first.
    #[arg(long)]
    no_build: bool,
    /// telegate terminates TLS itself (direct TLS, as without nginx).
    #[arg(long)]
    tls: bool,
}

/// One server's figures.
struct Figures {
    outcome: Outcome,
    idle_mb: f64,
    peak_mb: f64,
    /// CPU used during the load (warm-up included), in cores: the server's,
    /// and this process's (the load generator's).
    server_cores: f64,
    bench_cores: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let binaries = Binaries::locate(!args.no_build)?;
    // Other work on the machine skews the figures: say how busy it was.
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let next_update_id = Arc::new(AtomicI64::new(1));
    let dir = tempfile::tempdir()?;
    let telegate_transport = if args.tls {
        make_certificates(dir.path())?;
        Transport::tls_trusting(&dir.path().join("ca.pem"))?
    } else {
        Transport::Plain
    };
    let load = |addr, transport: &Transport| Load {
        addr,
        transport: transport.clone(),
        connections: args.connections,
        warmup: Duration::from_secs(args.warmup),
        measure: Duration::from_secs(args.seconds),
        secret: SECRET.into(),
        next_update_id: next_update_id.clone(),
    };

    eprintln!("bare_webhook: {}", binaries.bare.display());
    let addr = free_addr()?;
    let mut command = Command::new(&binaries.bare);
    command.arg(addr.to_string());
    let bare = Server::start(command, addr, &Transport::Plain, |status, _| status == 200).await?;
    let bare = measure(bare, load(addr, &Transport::Plain)).await?;

    eprintln!("telegate: {}", binaries.telegate.display());
    let standin = StandIn::start(TOKEN, "bench_bot").await?;
    let database = dir.path().join("bench.db");
    let addr = free_addr()?;
    let mut command = telegate_command(&binaries.telegate, dir.path(), &standin.url(), addr);
    if args.tls {
        command
            .env("TLS_CERT_FILE", dir.path().join("cert.pem"))
            .env("TLS_KEY_FILE", dir.path().join("key.pem"));
    }
    let telegate = Server::start(
        command,
        addr,
        &telegate_transport,
        // Registered and ready: the worker handles updates during the load.
        |status, body| {
            status == 200
                && serde_json::from_slice::<serde_json::Value>(body)
                    .is_ok_and(|v| v["status"] == "ok")
        },
    )
    .await?;
    let telegate = measure(telegate, load(addr, &telegate_transport)).await?;
    let inbox = count_inbox(&database).await?;

    print_report(&args, &bare, &telegate, &inbox);
    println!(
        "- load average before the runs (1, 5, 15 min): {}",
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let consistent = telegate.outcome.errors_total == 0 && inbox.rows == telegate.outcome.ok_total;
    Ok(if consistent {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A CA (`ca.pem`) and a certificate it issued for 127.0.0.1 (`cert.pem`,
/// `key.pem`), made with openssl in `dir`.
fn make_certificates(dir: &Path) -> anyhow::Result<()> {
    let req = |extra: &[&str], cert: &str, key: &str| -> anyhow::Result<()> {
        let output = std::process::Command::new("openssl")
            .args(["req", "-x509", "-nodes", "-days", "1", "-newkey", "ec"])
            .args(["-pkeyopt", "ec_paramgen_curve:prime256v1"])
            .args(extra)
            .arg("-keyout")
            .arg(dir.join(key))
            .arg("-out")
            .arg(dir.join(cert))
            .current_dir(dir)
            .output()
            .context("cannot run openssl (apt-get install openssl)")?;
        if !output.status.success() {
            anyhow::bail!("openssl: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(())
    };
    req(&["-subj", "/CN=bench CA"], "ca.pem", "ca.key")?;
    req(
        &[
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
        ],
        "cert.pem",
        "key.pem",
    )
}

/// `telegate serve`, configured by a cleared environment, in `dir` (no .env).
fn telegate_command(
    binary: &Path,
    dir: &Path,
    api_url: &str,
    addr: std::net::SocketAddr,
) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", api_url)
        .env(
            "WEBHOOK_URL",
            format!("https://bench.invalid{WEBHOOK_PATH}"),
        )
        .env("WEBHOOK_SECRET", SECRET)
        .env("LISTEN_ADDR", addr.to_string())
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite:{}", dir.join("bench.db").display()),
        )
        .env("BOT_OWNER_ID", OWNER_ID.to_string())
        // Loopback is "Telegram", connecting directly.
        .env("TELEGRAM_IP_RANGES", "127.0.0.1/32")
        .env("TRUSTED_PROXIES", "")
        // Every update comes from one user: lift the per-user flood limit so
        // the worker handles them all, as before that limit existed.
        .env("INBOUND_LIMIT_PER_MIN", "10000")
        .env("LOG_LEVEL", "warn");
    command
}

/// Idle memory, the load, peak memory; then the server is stopped.
async fn measure(server: Server, load: Load) -> anyhow::Result<Figures> {
    let idle_mb = server.memory_mb("VmRSS")?;
    eprintln!(
        "  {} connections: {} s warm-up, {} s measured",
        load.connections,
        load.warmup.as_secs(),
        load.measure.as_secs()
    );
    let (server_cpu, bench_cpu) = (server.cpu_seconds()?, server::cpu_seconds("self")?);
    let started = Instant::now();
    let outcome = load.run().await?;
    let wall = started.elapsed().as_secs_f64();
    let server_cores = (server.cpu_seconds()? - server_cpu) / wall;
    let bench_cores = (server::cpu_seconds("self")? - bench_cpu) / wall;
    let peak_mb = server.memory_mb("VmHWM")?;
    let status = server.stop().await?;
    if !status.success() {
        eprintln!("  warning: the server exited with {status}");
    }
    Ok(Figures {
        outcome,
        idle_mb,
        peak_mb,
        server_cores,
        bench_cores,
    })
}

/// What the inbox holds once telegate has stopped.
struct Inbox {
    /// Every stored update.
    rows: u64,
    /// Those the worker had finished with (handled while the load ran).
    handled: u64,
}

async fn count_inbox(database: &Path) -> anyhow::Result<Inbox> {
    let options = SqliteConnectOptions::new()
        .filename(database)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let (rows, handled): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(*) FILTER (WHERE status <> 'pending') FROM inbox")
            .fetch_one(&mut conn)
            .await?;
    conn.close().await?;
    Ok(Inbox {
        rows: u64::try_from(rows)?,
        handled: u64::try_from(handled)?,
    })
}

fn print_report(args: &Args, bare: &Figures, telegate: &Figures, inbox: &Inbox) {
    let ratio = 100.0 * telegate.outcome.per_second() / bare.outcome.per_second();
    println!(
        "\n{} connections, {} s warm-up + {} s measured per server\n",
        args.connections, args.warmup, args.seconds
    );
    println!(
        "| server | requests/s | p50 ms | p99 ms | max ms | errors | RSS idle MB | RSS peak MB | server CPU | load-gen CPU | % of bare |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let name = if args.tls {
        "telegate (direct TLS)"
    } else {
        "telegate"
    };
    for (name, f, share) in [("bare axum", bare, 100.0), (name, telegate, ratio)] {
        let o = &f.outcome;
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.1} | {:.1} | {:.2} | {:.2} | {share:.0} |",
            o.per_second(),
            o.quantile_ms(0.50),
            o.quantile_ms(0.99),
            o.quantile_ms(1.0),
            o.errors,
            f.idle_mb,
            f.peak_mb,
            f.server_cores,
            f.bench_cores,
        );
    }
    let t = &telegate.outcome;
    let met = |yes: bool| if yes { "met" } else { "NOT met" };
    println!();
    let stored = if inbox.rows == t.ok_total {
        "match"
    } else {
        "MISMATCH"
    };
    println!(
        "- inbox rows: {}, 200 answers from telegate (warm-up included): {} ({stored}); non-200 or failed: {}",
        inbox.rows, t.ok_total, t.errors_total
    );
    println!(
        "- updates the worker had handled by the end: {} of {}",
        inbox.handled, inbox.rows
    );
    println!(
        "- throughput >= 80% of bare: {ratio:.0}%, {}",
        met(ratio >= 80.0)
    );
    println!(
        "- p99 < 10 ms: {:.2} ms, {}",
        t.quantile_ms(0.99),
        met(t.quantile_ms(0.99) < 10.0)
    );
    println!(
        "- peak RSS < 30 MB: {:.1} MB, {}",
        telegate.peak_mb,
        met(telegate.peak_mb < 30.0)
    );
}
