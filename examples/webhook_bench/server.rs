//! The servers under test, each a child process: found next to this
//! example's executable, started, polled until ready, measured, stopped.

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::ExitStatus,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use hyper::body::Bytes;
use tokio::process::{Child, Command};

use crate::load;

/// How long a server may take to become ready, and to stop.
const DEADLINE: Duration = Duration::from_secs(30);
/// How long one readiness check may take.
const POLL: Duration = Duration::from_secs(1);

/// The release binaries of telegate and of the bare server.
pub struct Binaries {
    pub telegate: PathBuf,
    pub bare: PathBuf,
}

impl Binaries {
    /// `<target>/release/examples/webhook_bench` runs this, so the others are
    /// `<target>/release/telegate` and `<target>/release/examples/bare_webhook`.
    /// Under `cargo run` they are (re)built first, so a stale binary is never
    /// measured; `build: false` skips that.
    pub fn locate(build: bool) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let examples = exe.parent().context("no examples directory")?;
        let profile = examples.parent().context("no profile directory")?;
        if profile.file_name().and_then(|n| n.to_str()) != Some("release") {
            bail!("benchmark release builds: cargo run --release --example webhook_bench");
        }
        if build && let Some(cargo) = std::env::var_os("CARGO") {
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
            let status = std::process::Command::new(cargo)
                .args(["build", "--release", "--bin", "telegate"])
                .args(["--example", "bare_webhook", "--manifest-path"])
                .arg(manifest)
                .status()?;
            if !status.success() {
                bail!("building telegate and bare_webhook failed");
            }
        }
        let binaries = Self {
            telegate: profile.join("telegate"),
            bare: examples.join("bare_webhook"),
        };
        for path in [&binaries.telegate, &binaries.bare] {
            if !path.is_file() {
                bail!(
                    "{} is missing: run `cargo build --release --bins --examples` first",
                    path.display()
                );
            }
        }
        Ok(binaries)
    }
}

/// A free loopback address for a child to listen on.
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// A running child server.
pub struct Server {
    child: Child,
    pid: u32,
}

impl Server {
    /// Starts `command` (killed if this process ends early) and waits until
    /// `GET /health` answers something `ready` accepts.
    pub async fn start(
        mut command: Command,
        addr: SocketAddr,
        transport: &load::Transport,
        ready: impl Fn(u16, &Bytes) -> bool,
    ) -> anyhow::Result<Self> {
        // The program only: the environment holds the token and the secret.
        let name = command
            .as_std()
            .get_program()
            .to_string_lossy()
            .into_owned();
        let mut child = command
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let pid = child.id().context("the child has no pid")?;
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("{name} exited before it was ready: {status}");
            }
            let health = tokio::time::timeout(POLL, load::get(addr, transport, "/health")).await;
            if let Ok(Ok((status, body))) = health
                && ready(status.as_u16(), &body)
            {
                return Ok(Self { child, pid });
            }
            if Instant::now() > deadline {
                bail!("{name} was not ready within {DEADLINE:?}");
            }
            tokio::time::sleep(POLL / 50).await;
        }
    }

    /// A memory figure of /proc/<pid>/status (`VmRSS`, `VmHWM`), in MB (10^6 bytes).
    pub fn memory_mb(&self, field: &str) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .with_context(|| format!("no {field} in /proc/{}/status", self.pid))?
            .trim()
            .parse()?;
        Ok(kib * 1024.0 / 1e6)
    }

    /// CPU time used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds(&self.pid.to_string())
    }

    /// SIGTERM, then waits for the exit (SIGKILL after the deadline).
    pub async fn stop(mut self) -> anyhow::Result<ExitStatus> {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()?;
        if !sent.success() {
            bail!("kill -TERM {} failed", self.pid);
        }
        match tokio::time::timeout(DEADLINE, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                self.child.kill().await?;
                bail!("pid {} ignored SIGTERM for {DEADLINE:?}; killed", self.pid)
            }
        }
    }
}

/// CPU time used so far by a process (`self` or a pid), in seconds: utime
/// and stime of /proc/<pid>/stat, in ticks of 1/100 s (Linux's USER_HZ).
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name, from field 3 (state) on.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("a malformed /proc/<pid>/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields.get(i).context("a short /proc/<pid>/stat")?.parse()?)
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}
