//! What reaches the program: every value checked, then passed as one inert
//! argv element; the environment, working directory and input exactly as
//! declared.

use serde_json::json;

use super::{ended, given, job_after, job_count, relay_app, send};
use crate::support::{OWNER, TestApp};

const COMMANDS: &str = r#"
[[command]]
name = "word"
description = "one plain word"
program = "@ARGV_JSON@"
args = ["{w}"]
params = [{ name = "w" }]

[[command]]
name = "say"
description = "the rest of the message"
program = "@ARGV_JSON@"
args = ["--", "{t}"]
params = [{ name = "t", type = "text" }]
"#;

enum Expect {
    /// Refused, the reply naming the parameter; nothing starts.
    Refused(&'static str),
    /// Runs with exactly these arguments.
    Argv(Vec<String>),
}

/// Sends `/command value` and checks what happened.
async fn check(app: &TestApp, update_id: i64, text: &str, expect: Expect) {
    let jobs_before = job_count(app).await;
    let texts_before = app.texts_to(OWNER).len();
    send(app, update_id, OWNER, text).await;
    match expect {
        Expect::Refused(param) => {
            let texts = app.wait_texts_to(OWNER, texts_before + 1).await;
            let reply = &texts[texts_before];
            assert!(
                reply.starts_with("Nothing was run") && reply.contains(param),
                "{text:?}: {reply}"
            );
            assert_eq!(job_count(app).await, jobs_before, "{text:?} started a job");
        }
        Expect::Argv(argv) => {
            let newest = job_count(app).await;
            assert_eq!(newest, jobs_before + 1, "{text:?} did not start a job");
            let job = ended(app, job_after(app, 0).await.id).await;
            assert_eq!(job.state, "succeeded", "{text:?}");
            assert_eq!(given(app, &job).await["argv"], json!(argv), "{text:?}");
        }
    }
}

#[tokio::test]
async fn hostile_values_are_refused_or_reach_the_program_as_one_inert_element() {
    let app = relay_app(COMMANDS, &[]).await;
    let long = "x".repeat(10_000);
    let plain_refusals = [
        "/word ;",
        "/word a;id",
        "/word &&",
        "/word |",
        "/word $(id)",
        "/word `id`",
        "/word -rf",
        "/word --help",
        "/word ｉｄ",
        "/word a\u{0}b",
    ];
    let mut update = 10;
    for text in plain_refusals {
        update += 1;
        check(&app, update, text, Expect::Refused("W")).await;
    }
    update += 1;
    check(&app, update, &format!("/word {long}"), Expect::Refused("W")).await;
    // A newline splits words: a second word is one too many.
    update += 1;
    check(&app, update, "/word a\nid", Expect::Refused("too many")).await;
    // Dots and slashes are plain characters, passed as they are.
    update += 1;
    check(
        &app,
        update,
        "/word ../../etc/passwd",
        Expect::Argv(vec!["../../etc/passwd".into()]),
    )
    .await;

    // The text parameter takes everything, as one element after `--`.
    let inert = [
        "a; id && rm -rf / | cat $(id) `id`",
        "line one\nline two",
        "-rf --help",
        "ｉｄ；ｒｍ \u{202e}reversed 'quoted' \"double\" * ~ $HOME",
        long.as_str(),
    ];
    for value in inert {
        update += 1;
        let argv = vec!["--".to_owned(), value.to_owned()];
        check(&app, update, &format!("/say {value}"), Expect::Argv(argv)).await;
    }
    update += 1;
    check(&app, update, "/say a\u{0}b", Expect::Refused("T")).await;
    update += 1;
    check(&app, update, "/say", Expect::Refused("T is missing")).await;
}

#[tokio::test]
async fn the_program_gets_exactly_the_declared_environment_directory_and_input() {
    let workdir = tempfile::tempdir().unwrap();
    let commands = format!(
        r#"
[[command]]
name = "env"
description = "what the program is given"
program = "@ARGV_JSON@"
args = ["fixed", "{{t}}"]
params = [{{ name = "t", type = "text" }}]
stdin = "{{t}}"
workdir = "{}"
env = {{ LANG = "C.UTF-8", GREETING = "hello world" }}
"#,
        workdir.path().display()
    );
    let app = relay_app(&commands, &[]).await;

    send(&app, 1, OWNER, "/env what I typed").await;

    let job = ended(&app, job_after(&app, 0).await.id).await;
    let given = given(&app, &job).await;
    assert_eq!(given["argv"], json!(["fixed", "what I typed"]));
    assert_eq!(given["stdin"], "what I typed");
    let cwd = std::fs::canonicalize(workdir.path()).unwrap();
    assert_eq!(given["cwd"], cwd.display().to_string());
    let env = given["env"].as_object().unwrap();
    let names: Vec<&str> = env.keys().map(String::as_str).collect();
    assert_eq!(names, ["GREETING", "HOME", "LANG", "PATH"], "{env:?}");
    assert_eq!(env["GREETING"], "hello world");
    assert_eq!(env["LANG"], "C.UTF-8");
}
