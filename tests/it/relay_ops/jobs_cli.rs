//! `telegate jobs [--running] [--limit N]` on the database of a running
//! server whose jobs were started from the chat.

use super::{sh_command, wait_job, write_commands};
use crate::support::{OWNER, TestApp, run_telegate};

const COMMANDS: &str = "[[command]]\nname = \"hello\"\ndescription = \"says hello\"\nprogram = \"/bin/echo\"\nargs = [\"hello\"]\n\n\
[[command]]\nname = \"say\"\ndescription = \"says it back\"\nprogram = \"/bin/echo\"\nargs = [\"{words}\"]\nparams = [{ name = \"words\", type = \"text\" }]\n\n";

/// `telegate ARGS` against the app's database: (success, stdout lines, stderr).
async fn jobs(app: &TestApp, args: &[&str]) -> (bool, Vec<String>, String) {
    let (ok, stdout, stderr) = run_telegate(app, args, "").await;
    (ok, stdout.lines().map(str::to_owned).collect(), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_lists_the_newest_first_and_with_running_only_the_live_ones() {
    let mut app = TestApp::prepare(&[]).await;
    let file = write_commands(
        app.dir.path(),
        &format!("{COMMANDS}{}", sh_command("sleeper", "sleep 300")),
    );
    app.vars.insert("COMMANDS_FILE".into(), file);
    let mut app = app.started().await;
    let database = app.db_path();
    app.say(1, OWNER, "/hello").await;
    wait_job(&database, |j| {
        j.command == "hello" && j.state == "succeeded"
    })
    .await;
    // A command line from the chat, with a line break and a terminal escape.
    app.say(2, OWNER, "/say hi\n\u{1b}[31mred").await;
    wait_job(&database, |j| j.command == "say" && j.state == "succeeded").await;
    app.say(3, OWNER, "/sleeper").await;
    wait_job(&database, |j| {
        j.command == "sleeper" && j.state == "running"
    })
    .await;

    let (ok, all, stderr) = jobs(&app, &["jobs"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(all.len(), 3, "{all:#?}");
    let fields: Vec<Vec<&str>> = all.iter().map(|l| l.split('\t').collect()).collect();
    let user = format!("user {OWNER}");
    let user = user.as_str();
    let chat = format!("chat {OWNER}");
    let chat = chat.as_str();
    assert_eq!(
        fields[0][..7],
        ["3", "running", "/sleeper", user, chat, "-", "output -"],
        "{all:#?}"
    );
    assert!(fields[0][7].starts_with("started 20") && fields[0][7].ends_with(" UTC"));
    assert_eq!(fields[0][8], "ended -");
    assert_eq!(
        fields[1][..3],
        ["2", "succeeded", "/say hi\\n\\u{1b}[31mred"],
        "control characters are escaped: {all:#?}"
    );
    assert_eq!(
        fields[2][..7],
        [
            "1",
            "succeeded",
            "/hello",
            user,
            chat,
            "exit code 0",
            "output 6 bytes"
        ],
        "{all:#?}"
    );
    assert!(fields[2][8].starts_with("ended 20") && fields[2][8].ends_with(" UTC"));

    let (ok, running, _) = jobs(&app, &["jobs", "--running"]).await;
    assert!(ok);
    assert_eq!(running, all[..1], "only the live job");
    let (ok, newest, _) = jobs(&app, &["jobs", "--limit", "2"]).await;
    assert!(ok);
    assert_eq!(newest, all[..2]);
    let (ok, _, stderr) = jobs(&app, &["jobs", "--limit", "0"]).await;
    assert!(!ok && stderr.contains("--limit"), "{stderr}");

    // Stopped, serve ends the job and marks it interrupted: none is live.
    app.stop().await;
    let (ok, running, stderr) = jobs(&app, &["jobs", "--running"]).await;
    assert!(ok && running.is_empty(), "{running:?}");
    assert!(stderr.contains("no job is queued or running"), "{stderr}");
    let (_, all, _) = jobs(&app, &["jobs"]).await;
    assert!(all[0].starts_with("3\tinterrupted\t/sleeper\t"), "{all:#?}");
}

#[tokio::test]
async fn jobs_without_a_database_says_which_one_it_looked_for() {
    let app = TestApp::prepare(&[]).await;
    let (ok, listed, stderr) = jobs(&app, &["jobs"]).await;
    assert!(!ok && listed.is_empty());
    assert!(
        stderr.contains("there is no database at") && stderr.contains("DATABASE_URL"),
        "{stderr}"
    );
}
