//! The relay's operator side: `telegate jobs` on a real database, and the
//! real `telegate serve` with a commands file: a bad file stops its start,
//! a kill -9 while a job runs leaves no process and no job running behind,
//! SIGHUP re-reads the file.

mod jobs_cli;
mod reload;
mod restart;
mod startup;

use std::path::Path;

use telegate::store::{self, jobs::Job};

use crate::support::{DEADLINE, SECRET, TELEGRAM_IP, eventually, updates::private_text};

/// Writes `text` as `commands.toml` in `dir`; returns its absolute path.
pub fn write_commands(dir: &Path, text: &str) -> String {
    let path = dir.join("commands.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A `[[command]]` named `name` that runs `/bin/sh -c SCRIPT`.
pub fn sh_command(name: &str, script: &str) -> String {
    // A TOML basic string reads Rust's escapes of a plain script alike.
    format!(
        "[[command]]\nname = \"{name}\"\ndescription = \"a test script\"\nprogram = \"/bin/sh\"\nargs = [\"-c\", {script:?}]\n"
    )
}

/// `user` sends `text` to the `telegate serve` listening on `addr`, the
/// way nginx forwards Telegram's updates.
pub async fn say(addr: &str, update_id: i64, user: i64, text: &str) {
    let response = frankenstein::reqwest::Client::new()
        .post(format!("http://{addr}/telegram/webhook"))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .header("x-forwarded-for", TELEGRAM_IP)
        .body(private_text(update_id, user, text).to_string())
        .send()
        .await
        .expect("telegate serve answers");
    assert_eq!(response.status(), 200);
}

/// The jobs in the database at `path`, newest first.
pub async fn jobs_in(path: &Path) -> Vec<Job> {
    let reads = store::open_reader(path).await.unwrap();
    let listed = store::jobs::recent(&reads, None, false, 1000)
        .await
        .unwrap();
    reads.close().await;
    listed
}

/// Waits until the database at `path` has a job that `wanted` accepts.
pub async fn wait_job(path: &Path, wanted: impl Fn(&Job) -> bool) -> Job {
    let found =
        eventually(|| async { jobs_in(path).await.into_iter().find(|job| wanted(job)) }).await;
    match found {
        Some(job) => job,
        None => panic!(
            "no such job within {DEADLINE:?}; the jobs: {:?}",
            jobs_in(path).await
        ),
    }
}

/// Sends SIGHUP to the process `pid`.
pub fn hangup(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
