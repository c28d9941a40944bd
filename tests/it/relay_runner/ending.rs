//! How a run ends: exit, timeout, cancel, and nothing of the group left.

use std::time::Duration;

use telegate::relay::{
    exit::Exit,
    group,
    runner::{run, start},
};
use tokio_util::sync::CancellationToken;

use super::{gone, is_running, pid_after, sh, tail_shows};

/// A program that ignores SIGTERM and starts a child that ignores it too
/// (an ignored signal stays ignored across fork and exec).
const STUBBORN: &str = r#"
trap '' TERM
sh -c 'echo "grandchild $$"; exec sleep 600' &
echo "child $$"
wait
"#;

#[tokio::test]
async fn a_program_ignoring_sigterm_is_killed_at_its_timeout_with_its_child() {
    let mut spec = sh(STUBBORN, &[]);
    spec.timeout = Duration::from_secs(3);
    spec.kill_grace = Duration::from_millis(300);
    let started = start(spec).await.unwrap();
    let pgid = started.pgid();
    let shown = tail_shows(&started, &["child", "grandchild"]).await.tail;

    let outcome = started.finish(&CancellationToken::new()).await;

    assert!(outcome.timed_out);
    assert!(!outcome.cancelled);
    assert_eq!(outcome.exit, Exit::Signal(9));
    assert_eq!(outcome.exit.to_string(), "killed by SIGKILL");
    // SIGTERM was ignored, so SIGKILL came only after the grace.
    assert!(
        outcome.duration >= Duration::from_millis(3300),
        "{outcome:?}"
    );
    assert!(!outcome.group_survived);
    // The runner returned only once the whole group was gone.
    assert!(!is_running(pid_after(&shown, "child")));
    assert!(!is_running(pid_after(&shown, "grandchild")));
    assert!(!group::is_running(pgid));
}

#[tokio::test]
async fn cancelling_a_run_kills_its_whole_group() {
    let started = start(sh(STUBBORN, &[])).await.unwrap();
    let shown = tail_shows(&started, &["child", "grandchild"]).await.tail;
    let cancel = CancellationToken::new();

    cancel.cancel();
    let outcome = started.finish(&cancel).await;

    assert!(outcome.cancelled);
    assert!(!outcome.timed_out);
    assert_eq!(outcome.exit, Exit::Signal(9));
    assert!(outcome.duration < Duration::from_secs(60));
    assert!(!is_running(pid_after(&shown, "child")));
    assert!(!is_running(pid_after(&shown, "grandchild")));
}

#[tokio::test]
async fn a_program_that_honours_sigterm_ends_within_its_grace_without_sigkill() {
    let script = "trap 'echo stopping; exit 3' TERM; echo ready; sleep 600 & wait";
    let mut spec = sh(script, &[]);
    spec.kill_grace = Duration::from_secs(30);
    let started = start(spec).await.unwrap();
    tail_shows(&started, &["ready"]).await;
    let cancel = CancellationToken::new();

    cancel.cancel();
    let outcome = started.finish(&cancel).await;

    assert_eq!(outcome.exit, Exit::Code(3));
    assert!(outcome.duration < Duration::from_secs(30), "{outcome:?}");
    let printed = String::from_utf8(outcome.output.merged()).unwrap();
    assert!(printed.ends_with("stopping\n"), "{printed:?}");
}

#[tokio::test]
async fn what_a_program_leaves_running_when_it_exits_is_ended() {
    let outcome = run(
        sh(r#"sleep 600 & echo "leftover $!""#, &[]),
        &CancellationToken::new(),
    )
    .await
    .unwrap();

    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(!outcome.timed_out && !outcome.cancelled);
    let printed = String::from_utf8(outcome.output.merged()).unwrap();
    assert!(!is_running(pid_after(&printed, "leftover")));
}

#[tokio::test]
async fn dropping_a_started_run_kills_its_group() {
    let started = start(sh(r#"echo "child $$"; exec sleep 600"#, &[]))
        .await
        .unwrap();
    let child = pid_after(&tail_shows(&started, &["child"]).await.tail, "child");

    drop(started);

    assert!(gone(child).await, "the child outlived its dropped run");
}

#[tokio::test]
async fn the_exit_code_is_reported() {
    let outcome = run(sh("exit 7", &[]), &CancellationToken::new())
        .await
        .unwrap();

    assert_eq!(outcome.exit, Exit::Code(7));
    assert_eq!(outcome.exit.to_string(), "exit code 7");
}

#[tokio::test]
async fn the_signal_that_ended_a_program_is_reported() {
    let outcome = run(sh("kill -USR1 $$", &[]), &CancellationToken::new())
        .await
        .unwrap();

    assert_eq!(outcome.exit, Exit::Signal(10));
    assert_eq!(outcome.exit.to_string(), "killed by SIGUSR1");
    assert!(!outcome.timed_out && !outcome.cancelled);
}

#[tokio::test]
async fn a_timeout_too_long_to_reach_is_no_timeout() {
    let mut spec = sh("exit 0", &[]);
    spec.timeout = Duration::MAX;

    let outcome = run(spec, &CancellationToken::new()).await.unwrap();

    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(!outcome.timed_out);
}
