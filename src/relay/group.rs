//! Process groups: whether one still runs, and ending it.
//!
//! Every run gets a session and process group of its own (its id is the
//! child's pid), so the group is what a timeout, a cancel or a restart ends:
//! the program and everything it started without leaving the group.
//!
//! "Still runs" ignores zombies: a member that has died but was not yet
//! reaped (by us, or by init for reparented grandchildren, which some inits do
//! only every second or two) holds nothing but its pid, so waiting for it
//! would only measure init.

use std::{fs, io, time::Duration};

use rustix::{
    io::Errno,
    process::{Pid, Signal, kill_process_group, test_kill_process_group},
};
use tokio::time::{Instant, sleep};

/// How long the runner waits for a group to die after SIGKILL. Only a member
/// stuck in the kernel (a hung network file system) takes longer.
pub const KILL_WAIT: Duration = Duration::from_secs(5);

/// Whether any process of group `pgid` is still running (zombies do not count).
pub fn is_running(pgid: i32) -> bool {
    let Some(pid) = group_pid(pgid) else {
        return false;
    };
    match test_kill_process_group(pid) {
        Err(Errno::SRCH) => false,
        _ => has_live_member(pgid, false),
    }
}

/// Sends SIGKILL to group `pgid` if a process of it still runs and the group
/// is a session of its own, as every group the runner starts is; returns
/// whether it sent the signal.
///
/// For serve's start: a group its job table says was running when telegate
/// stopped has outlived its parent (the parent-death signal reaches only the
/// program itself, not what it started). The session check keeps a pid that
/// was reused since for an ordinary process group (a shell's job, a service)
/// from being killed. Our own group and the groups 0 and 1 are never touched.
pub fn kill_group_if_alive(pgid: i32) -> io::Result<bool> {
    let Some(pid) = group_pid(pgid) else {
        return Ok(false);
    };
    if !has_live_member(pgid, true) {
        return Ok(false);
    }
    match kill_process_group(pid, Signal::KILL) {
        Ok(()) => Ok(true),
        Err(Errno::SRCH) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

/// Ends group `pgid`: SIGTERM (and SIGCONT, so stopped members see it), up to
/// `grace` for the group to exit, then SIGKILL. Returns once no member runs,
/// or false if one still runs [`KILL_WAIT`] after SIGKILL.
///
/// The caller must not have reaped the group's leader yet: an unreaped leader
/// keeps the group id from being reused, so these signals cannot reach a
/// stranger's group.
pub(crate) async fn end(pgid: i32, grace: Duration) -> bool {
    if !is_running(pgid) {
        return true;
    }
    signal(pgid, Signal::TERM);
    signal(pgid, Signal::CONT);
    if wait_until_gone(pgid, grace).await {
        return true;
    }
    signal(pgid, Signal::KILL);
    wait_until_gone(pgid, KILL_WAIT).await
}

/// SIGKILL to a group the caller started and has not reaped, without waiting.
pub(crate) fn kill_now(pgid: i32) {
    signal(pgid, Signal::KILL);
}

/// Sends `sig` to the group, ignoring a group that is already gone.
fn signal(pgid: i32, sig: Signal) {
    if let Some(pid) = group_pid(pgid) {
        let _ = kill_process_group(pid, sig);
    }
}

async fn wait_until_gone(pgid: i32, limit: Duration) -> bool {
    let now = Instant::now();
    let deadline = now
        .checked_add(limit)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
    let mut pause = Duration::from_millis(2);
    loop {
        if !is_running(pgid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(pause.min(deadline - Instant::now())).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The group id as a pid to signal; `None` for ids that would mean "every
/// process" or "our own group" to kill(2), or init's.
fn group_pid(pgid: i32) -> Option<Pid> {
    if pgid <= 1 || pgid == rustix::process::getpgrp().as_raw_pid() {
        return None;
    }
    Pid::from_raw(pgid)
}

/// Scans /proc for a member of `pgid` that is not a zombie; with
/// `own_session`, only members whose session id is also `pgid` count.
fn has_live_member(pgid: i32, own_session: bool) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else {
        // Without /proc we cannot tell: assume it runs, so it gets signalled.
        return true;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(is_pid))
        .any(|entry| {
            let path = entry.path();
            let Some(stat) = Stat::read(&path.join("stat")) else {
                return false; // gone meanwhile
            };
            stat.pgrp == pgid
                && (!own_session || stat.session == pgid)
                && (stat.is_live() || any_live_thread(&path))
        })
}

/// A zombie leader can still have running threads (it called pthread_exit).
fn any_live_thread(process: &std::path::Path) -> bool {
    let Ok(tasks) = fs::read_dir(process.join("task")) else {
        return false;
    };
    tasks
        .flatten()
        .filter_map(|task| Stat::read(&task.path().join("stat")))
        .any(|stat| stat.is_live())
}

fn is_pid(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

/// The fields of /proc/PID/stat this module needs.
struct Stat {
    state: char,
    pgrp: i32,
    session: i32,
}

impl Stat {
    fn read(path: &std::path::Path) -> Option<Self> {
        let text = fs::read_to_string(path).ok()?;
        // The command name is in parentheses and may contain anything, also
        // ") ": the fields that follow start after the last ')'.
        let rest = &text[text.rfind(')')? + 1..];
        let mut fields = rest.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let _ppid = fields.next()?;
        let pgrp = fields.next()?.parse().ok()?;
        let session = fields.next()?.parse().ok()?;
        Some(Self {
            state,
            pgrp,
            session,
        })
    }

    fn is_live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_that_kill_reads_as_everyone_init_or_ourselves_are_never_signalled() {
        for pgid in [-1, 0, 1, rustix::process::getpgrp().as_raw_pid()] {
            assert_eq!(group_pid(pgid), None, "{pgid}");
        }
        assert!(group_pid(i32::MAX).is_some());
    }

    #[test]
    fn stat_fields_are_found_after_a_command_name_with_parentheses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stat");
        fs::write(&path, "4242 (a) b (c)) Z 1 4240 4239 0 -1").unwrap();
        let stat = Stat::read(&path).unwrap();
        assert_eq!((stat.state, stat.pgrp, stat.session), ('Z', 4240, 4239));
        assert!(!stat.is_live());
    }
}
