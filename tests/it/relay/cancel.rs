//! Ending a job before its end: the [Cancel] button, /cancel and the
//! timeout all end the whole process group (SIGTERM, SIGKILL 5 s later).

use std::time::Duration;

use telegate::{relay::group, store::jobs};

use super::{
    FRIEND, ended, ended_within, final_status, job_after, output_of, press, relay_app, send,
    status_message,
};
use crate::{
    relay_runner::{gone, pid_after},
    support::{OWNER, TestApp, eventually},
};

const COMMANDS: &str = r#"
[[command]]
name = "wait"
description = "runs until stopped"
program = "/bin/sh"
args = ["-c", "echo started; sleep 300; echo never"]

[[command]]
name = "stubborn"
description = "ignores SIGTERM, and so does its child"
program = "/bin/sh"
args = ["-c", "trap '' TERM; sleep 300 & echo child $!; sleep 300"]
timeout = "1s"
"#;

/// Starts /wait as `user`; returns the job and its process group once it runs.
async fn start_waiting(app: &TestApp, update_id: i64, user: i64) -> (jobs::Job, i32) {
    send(app, update_id, user, "/wait").await;
    let job = job_after(app, 0).await;
    let pgid = eventually(|| async {
        let now = jobs::get(app.db(), job.id).await.unwrap()?;
        (now.state == "running").then_some(now.pgid?)
    })
    .await
    .expect("the job runs");
    (job, i32::try_from(pgid).unwrap())
}

#[tokio::test]
async fn the_cancel_button_ends_a_running_job_and_its_whole_group() {
    let app = relay_app(COMMANDS, &[]).await;
    let (job, pgid) = start_waiting(&app, 1, OWNER).await;
    let status = status_message(&app, &job).await;
    assert!(status.shown.starts_with("⏳ /wait"), "{}", status.shown);

    // Someone else's press does nothing.
    let foreign = app
        .standin
        .press(2, status.chat_id, status.message_id, FRIEND, "Cancel")
        .unwrap();
    app.post_update(&foreign).await;
    app.wait_handled(2).await;
    assert!(group::is_running(pgid));

    press(&app, 3, &status, OWNER, "Cancel").await;
    let job = ended(&app, job.id).await;
    assert_eq!(job.state, "cancelled");
    assert!(!group::is_running(pgid), "the group outlived the cancel");
    let shown = final_status(&app, &job).await.shown;
    assert!(shown.starts_with("✖️ /wait — cancelled after"), "{shown}");
    assert!(
        shown.contains("started") && !shown.contains("never"),
        "{shown}"
    );
    super::all_answered(&app).await;
}

#[tokio::test]
async fn slash_cancel_ends_the_user_s_running_jobs_and_no_one_else_s() {
    let app = relay_app(COMMANDS, &[]).await;
    let (mine, my_group) = start_waiting(&app, 1, OWNER).await;
    let (theirs, their_group) = start_waiting(&app, 2, FRIEND).await;

    let reply = app.say(3, OWNER, "/cancel").await;
    assert!(reply.contains(&format!("#{}", mine.id)), "{reply}");
    assert_eq!(ended(&app, mine.id).await.state, "cancelled");
    assert!(!group::is_running(my_group));
    assert!(
        group::is_running(their_group),
        "another user's job was cancelled"
    );
    assert_eq!(
        jobs::get(app.db(), theirs.id).await.unwrap().unwrap().state,
        "running"
    );

    assert_eq!(
        app.say(4, OWNER, "/cancel").await,
        "You have no command running."
    );
}

#[tokio::test]
async fn a_command_ignoring_sigterm_is_killed_at_its_timeout_with_its_child() {
    let app = relay_app(COMMANDS, &[]).await;
    send(&app, 1, OWNER, "/stubborn").await;
    let job = job_after(&app, 0).await;

    // 1 s, then 5 s of grace after SIGTERM, then SIGKILL.
    let job = ended_within(&app, job.id, Duration::from_secs(30)).await;
    assert_eq!(job.state, "timed_out");
    let output = output_of(&app, &job).await;
    let child = pid_after(&output, "child");
    assert!(gone(child).await, "the child outlived the timeout");
    let shown = final_status(&app, &job).await.shown;
    assert!(
        shown.starts_with("⏱ /stubborn — timed out after 1 s"),
        "{shown}"
    );
    assert_eq!(job.exit.as_deref(), Some("killed by SIGKILL"));
}

#[tokio::test]
async fn stopping_serve_ends_running_jobs_marks_them_interrupted_and_says_so_after_the_restart() {
    let mut app = relay_app(COMMANDS, &[]).await;
    let (job, pgid) = start_waiting(&app, 1, OWNER).await;
    status_message(&app, &job).await;

    app.stop().await;
    assert!(!group::is_running(pgid), "the job outlived serve");

    // The edit that says so waited in the outbox for the next start.
    app.start().await;
    let stopped = jobs::get(app.db(), job.id).await.unwrap().unwrap();
    assert_eq!(stopped.state, "interrupted");
    let shown = final_status(&app, &job).await.shown;
    assert!(shown.starts_with("⚠️ /wait — interrupted"), "{shown}");
    assert_eq!(super::job_count(&app).await, 1, "nothing was run again");
}
