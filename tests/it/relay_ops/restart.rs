//! kill -9 of `telegate serve` while a job runs: no process of the job is
//! left once serve is started again, the job reads "interrupted" in the
//! jobs table and in its status message, and nothing is run again.

use telegate::{
    relay::group,
    standin::StandIn,
    store::{self, outbox},
};

use super::{say, sh_command, wait_job, write_commands};
use crate::{
    binary::{serve, stop},
    support::{BOT_USERNAME, DEADLINE, OWNER, TOKEN, eventually},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_running_when_serve_is_killed_is_ended_and_marked_interrupted_at_the_next_start() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (database, runs) = (dir.path().join("telegate.db"), dir.path().join("runs"));
    // The program notes each start, then leaves a process of its group in
    // the background: the parent-death signal reaches only the program, so
    // that one outlives serve and only the next start can end it.
    // "started" is written once the background process exists: the test
    // waits for it before the kill.
    let script = format!(
        "sleep 300 & echo started >> {}; exec sleep 300",
        runs.display()
    );
    let commands = write_commands(dir.path(), &sh_command("sleeper", &script));
    let extra = [("COMMANDS_FILE", commands.as_str())];
    let mut served = serve(&standin, dir.path(), &extra);
    say(&served.addr, 1, OWNER, "/sleeper").await;
    let job = wait_job(&database, |j| j.state == "running" && j.pgid.is_some()).await;
    let pgid = i32::try_from(job.pgid.unwrap()).unwrap();
    let status_call = job.status_call.expect("the job has a status message");
    // The status message exists in Telegram, so the next start can edit it.
    let reads = store::open_reader(&database).await.unwrap();
    let message_id = eventually(|| async {
        outbox::message_of(&reads, status_call)
            .await
            .unwrap()
            .flatten()
    })
    .await
    .expect("the status message was sent");
    reads.close().await;

    eventually(|| async {
        std::fs::read_to_string(&runs)
            .is_ok_and(|r| r == "started\n")
            .then_some(())
    })
    .await
    .expect("the program started its background process");
    served.child.kill().unwrap(); // SIGKILL: serve cleans nothing up
    served.child.wait().unwrap();
    assert!(
        group::is_running(pgid),
        "the job's background process outlived serve, for the next start to end"
    );

    let mut served = serve(&standin, dir.path(), &extra);
    let interrupted = standin
        .wait_for(DEADLINE, |calls| {
            calls
                .iter()
                .filter(|c| c.method == "editMessageText" && c.status == 200)
                .map(|c| &c.params)
                .find(|p| {
                    p["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("interrupted")
                        && p["chat_id"] == OWNER
                })
                .cloned()
        })
        .await
        .expect("the status message is edited to say the job was interrupted");
    let ended = eventually(|| async { (!group::is_running(pgid)).then_some(()) }).await;
    let logs = stop(&mut served);

    assert!(ended.is_some(), "the job's process group still runs");
    assert_eq!(interrupted["message_id"], message_id, "{interrupted}");
    let text = interrupted["text"].as_str().unwrap();
    assert!(
        text.contains("/sleeper") && text.contains("it was not run again"),
        "{text}"
    );
    assert!(
        interrupted["reply_markup"].is_null(),
        "the [Cancel] button is gone: {interrupted}"
    );
    let listed = super::jobs_in(&database).await;
    assert_eq!(listed.len(), 1, "no job was started again: {listed:?}");
    assert_eq!(listed[0].state, "interrupted");
    assert_eq!(listed[0].exit.as_deref(), Some("interrupted"));
    assert_eq!(listed[0].pgid, None);
    assert_eq!(
        std::fs::read_to_string(&runs).unwrap(),
        "started\n",
        "the program ran once"
    );
    assert!(
        logs.contains("ended a job's processes left running"),
        "{logs}"
    );
}
