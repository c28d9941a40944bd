//! The process runner with real programs: /bin/sh scripts and coreutils as
//! the children, /proc as the witness of what is still running.

mod ending;
mod input;
mod output;
mod parent_death;

use std::time::Duration;

use telegate::relay::{
    capture::Progress,
    runner::{RunSpec, Started},
};
use tokio::sync::watch;

use crate::support::DEADLINE;

/// `/bin/sh -c SCRIPT ARGS…`: inside the script `$0` is the first of `args`.
pub fn sh(script: &str, args: &[&str]) -> RunSpec {
    let mut spec = RunSpec::new("/bin/sh");
    spec.argv = ["-c", script]
        .iter()
        .chain(args)
        .map(|a| (*a).to_owned())
        .collect();
    spec.timeout = Duration::from_secs(60);
    spec.kill_grace = Duration::from_millis(300);
    spec
}

/// Whether process `pid` still runs: it exists and is not a zombie.
pub fn is_running(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat[stat.rfind(')').unwrap() + 1..]
        .trim_start()
        .chars()
        .next();
    !matches!(state, Some('Z' | 'X' | 'x'))
}

/// The number after `label ` in `text` (a test program printed "label PID").
pub fn pid_after(text: &str, label: &str) -> i32 {
    text.lines()
        .find_map(|line| line.strip_prefix(label)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no '{label} PID' line in {text:?}"))
        .trim()
        .parse()
        .unwrap()
}

/// Waits until the live tail contains every one of `needles`.
pub async fn tail_shows(started: &Started, needles: &[&str]) -> Progress {
    let mut progress: watch::Receiver<Progress> = started.progress();
    tokio::time::timeout(
        DEADLINE,
        progress.wait_for(|p| needles.iter().all(|n| p.tail.contains(n))),
    )
    .await
    .unwrap_or_else(|_| panic!("the output never showed {needles:?}"))
    .expect("the runner keeps the progress channel open")
    .clone()
}

/// Waits until process `pid` no longer runs.
pub async fn gone(pid: i32) -> bool {
    crate::support::eventually(|| async move { (!is_running(pid)).then_some(()) })
        .await
        .is_some()
}
