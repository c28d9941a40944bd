//! A program never outlives telegate: the parent-death signal, the thread
//! it is tied to, and the groups a killed telegate leaves behind.

use std::{path::Path, process::Stdio};

use telegate::relay::{
    exit::Exit,
    group::{self, kill_group_if_alive},
    runner::{run, start},
};
use tokio_util::sync::CancellationToken;

use super::{gone, is_running, pid_after, sh, tail_shows};
use crate::support::eventually;

/// Set when this test binary is re-run as the process that gets killed.
const HELPER_DIR: &str = "TELEGATE_TEST_RELAY_HELPER_DIR";
const HELPER_TEST: &str = "relay_runner::parent_death::a_program_dies_with_telegate_and_what_it_started_is_ended_at_the_next_start";

#[tokio::test]
async fn a_program_dies_with_telegate_and_what_it_started_is_ended_at_the_next_start() {
    if let Some(dir) = std::env::var_os(HELPER_DIR) {
        return run_as_the_killed_process(Path::new(&dir)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args([HELPER_TEST, "--exact", "--test-threads=1"])
        .env(HELPER_DIR, dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pids_file = dir.path().join("pids");
    let pids = eventually(|| async { std::fs::read_to_string(&pids_file).ok() })
        .await
        .expect("the helper started its program");
    let (child, leftover) = (pid_after(&pids, "child"), pid_after(&pids, "leftover"));
    assert!(is_running(child) && is_running(leftover));

    helper.kill().unwrap(); // SIGKILL: no cleanup of any kind runs
    helper.wait().unwrap();

    assert!(gone(child).await, "the program outlived the killed process");
    // The parent-death signal reaches only the program, not its children:
    // its group is still there for the next start to end.
    assert!(is_running(leftover));
    assert!(group::is_running(child));
    assert!(kill_group_if_alive(child).unwrap());
    assert!(
        gone(leftover).await,
        "the leftover survived kill_group_if_alive"
    );
    assert!(!kill_group_if_alive(child).unwrap());
}

/// Starts a program with a child of its own, says their pids, and waits to be killed.
async fn run_as_the_killed_process(dir: &Path) {
    let script = r#"sleep 600 & echo "leftover $!"; echo "child $$"; exec sleep 600"#;
    let started = start(sh(script, &[])).await.unwrap();
    let tail = tail_shows(&started, &["leftover", "child"]).await.tail;
    let partial = dir.join("pids.partial");
    std::fs::write(&partial, tail).unwrap();
    std::fs::rename(&partial, dir.join("pids")).unwrap();
    started.finish(&CancellationToken::new()).await;
    panic!("the helper was meant to be killed before its program ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_outlives_the_thread_that_started_it() {
    // The parent-death signal fires when the thread that forked exits. A
    // short-lived thread starts the run here; the program must live on.
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let spec = sh(
        r#"while [ ! -e "$0" ]; do sleep 0.01; done; echo finished"#,
        &[go.to_str().unwrap()],
    );
    let runtime = tokio::runtime::Handle::current();
    let (thread_id, started) = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        let thread_id = unsafe { libc::gettid() };
        (thread_id, runtime.block_on(start(spec)).unwrap())
    })
    .join()
    .unwrap();
    let task = format!("/proc/self/task/{thread_id}");
    eventually(|| async { (!Path::new(&task).exists()).then_some(()) })
        .await
        .expect("the starting thread is fully gone");

    std::fs::write(&go, "").unwrap();
    let outcome = started.finish(&CancellationToken::new()).await;

    assert_eq!(outcome.exit, Exit::Code(0));
    assert_eq!(outcome.output.merged(), b"finished\n");
}

#[tokio::test]
async fn kill_group_if_alive_leaves_a_group_that_is_not_a_session_of_its_own_alone() {
    // What a reused pid most likely belongs to: a shell's job, a service.
    use std::os::unix::process::CommandExt;
    let mut stranger = std::process::Command::new("/bin/sleep")
        .arg("600")
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = i32::try_from(stranger.id()).unwrap();

    let killed = kill_group_if_alive(pgid).unwrap();

    let still_running = is_running(pgid);
    stranger.kill().unwrap();
    stranger.wait().unwrap();
    assert!(!killed);
    assert!(still_running);
}

#[tokio::test]
async fn kill_group_if_alive_does_nothing_for_a_group_that_has_ended() {
    let started = start(sh("exit 0", &[])).await.unwrap();
    let pgid = started.pgid();
    let outcome = started.finish(&CancellationToken::new()).await;
    assert_eq!(outcome.exit, Exit::Code(0));

    assert!(!kill_group_if_alive(pgid).unwrap());
    assert!(!group::is_running(pgid));
}

#[tokio::test]
async fn a_finished_run_leaves_no_process_of_its_group() {
    let outcome = run(
        sh(r#"sh -c 'echo "inner $$"' ; echo "outer $$""#, &[]),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let printed = String::from_utf8(outcome.output.merged()).unwrap();

    assert!(!is_running(pid_after(&printed, "inner")));
    assert!(!group::is_running(pid_after(&printed, "outer")));
}
