//! What the benchmarks that run a real `telegate serve` share: the child
//! process, stopped also when a benchmark fails, and the wait for /health.

use std::{
    net::SocketAddr,
    process::{Child, Command},
    time::{Duration, Instant},
};

use anyhow::bail;
use serde_json::Value;

/// The serve child, stopped (and reaped) also when the benchmark fails.
pub struct ServeChild(pub Child);

impl ServeChild {
    /// SIGTERM, then waits for serve to exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()?;
        if !status.success() {
            bail!("cannot send SIGTERM to serve");
        }
        self.0.wait()?;
        Ok(())
    }
}

impl Drop for ServeChild {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Waits until /health says serve is registered and working.
pub async fn wait_ready(addr: SocketAddr) -> anyhow::Result<()> {
    let client = frankenstein::reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(format!("http://{addr}/health")).send().await
            && response.status() == 200
            && response.text().await.is_ok_and(|body| {
                serde_json::from_str::<Value>(&body).is_ok_and(|v| v["status"] == "ok")
            })
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("serve did not become healthy within 30 s")
}
