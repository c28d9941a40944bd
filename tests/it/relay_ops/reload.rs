//! SIGHUP makes `telegate serve` re-read COMMANDS_FILE: a command added
//! works at once; a file with problems changes nothing and the log says why.

use telegate::standin::StandIn;

use super::{hangup, say, write_commands};
use crate::{
    binary::{serve, stop, wait_logged},
    support::{BOT_USERNAME, DEADLINE, OWNER, TOKEN},
};

const HELLO: &str = "[[command]]\nname = \"hello\"\ndescription = \"says hello\"\nprogram = \"/bin/echo\"\nargs = [\"hello\"]\n";
const GREET: &str = "[[command]]\nname = \"greet\"\ndescription = \"greets someone\"\nprogram = \"/bin/echo\"\nargs = [\"greetings\", \"{who}\"]\nparams = [{ name = \"who\" }]\n";

/// Waits for a message to the owner (sent or edited) whose text has `needle`.
async fn owner_sees(standin: &StandIn, needle: &str) -> bool {
    standin
        .wait_for(DEADLINE, |calls| {
            calls
                .iter()
                .filter(|c| c.status == 200 && c.params["chat_id"] == OWNER)
                .any(|c| {
                    c.params["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains(needle)
                })
                .then_some(())
        })
        .await
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rereads_the_commands_file_and_a_bad_one_keeps_the_commands_before() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let commands = write_commands(dir.path(), HELLO);
    let mut served = serve(&standin, dir.path(), &[("COMMANDS_FILE", &commands)]);
    say(&served.addr, 1, OWNER, "/greet world").await;
    let unknown_before = owner_sees(&standin, "There is no /greet command").await;

    write_commands(dir.path(), &format!("{HELLO}\n{GREET}"));
    hangup(served.child.id());
    let reloaded = wait_logged(&served, "SIGHUP: reloaded COMMANDS_FILE");
    say(&served.addr, 2, OWNER, "/greet world").await;
    let greeted = owner_sees(&standin, "greetings world").await;

    // Line 3: a program that is not there. /greet is gone from this file,
    // but the file is not taken: /greet goes on working.
    let bad =
        "[[command]]\nname = \"hello\"\nprogram = \"/nonexistent/echo\"\ndescription = \"d\"\n";
    write_commands(dir.path(), bad);
    hangup(served.child.id());
    let refused = wait_logged(&served, "COMMANDS_FILE was not reloaded");
    say(&served.addr, 3, OWNER, "/greet again").await;
    let greeted_again = owner_sees(&standin, "greetings again").await;
    let alive = served.child.try_wait().unwrap().is_none();
    let logs = stop(&mut served);

    assert!(unknown_before, "/greet ran before it was declared: {logs}");
    assert!(reloaded && greeted, "the new command does not work: {logs}");
    assert!(refused && alive, "{logs}");
    assert!(
        logs.contains("3: program /nonexistent/echo does not exist"),
        "the log says why: {logs}"
    );
    assert!(greeted_again, "the commands before were dropped: {logs}");
}
