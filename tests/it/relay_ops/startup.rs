//! A commands file with problems stops `telegate serve` before it does
//! anything, naming each problem's line.

use telegate::standin::StandIn;

use super::write_commands;
use crate::{
    binary::telegate,
    support::{BOT_USERNAME, OWNER, SECRET, TOKEN},
};

const GOOD: &str = "[[command]]\nname = \"hello\"\ndescription = \"says hello\"\nprogram = \"/bin/echo\"\nargs = [\"hello\"]\n";

/// Runs `telegate serve` to its end with `commands` as its COMMANDS_FILE;
/// returns (exit code, stderr, whether a database file was made).
async fn serve_with(standin: &StandIn, commands: &str) -> (Option<i32>, String, bool) {
    let (mut serve, dir) = telegate();
    let file = write_commands(dir.path(), commands);
    serve
        .arg("serve")
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", standin.url())
        .env("WEBHOOK_URL", "https://bot.telegate.test/telegram/webhook")
        .env("WEBHOOK_SECRET", SECRET)
        .env("BOT_OWNER_ID", OWNER.to_string())
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", "sqlite:telegate.db")
        .env("COMMANDS_FILE", &file);
    // Blocking, beside the stand-in that runs on this test's runtime.
    let output = tokio::task::spawn_blocking(move || serve.output().unwrap())
        .await
        .unwrap();
    let made_database = dir.path().join("telegate.db").exists();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        made_database,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commands_file_with_problems_stops_serve_naming_each_line() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    // Line 10: a program that is not there; line 12: a name that is taken.
    let bad = format!(
        "{GOOD}\n[[command]]\nname = \"disk\"\ndescription = \"free space\"\nprogram = \"/nonexistent/df\"\n[[command]]\nname = \"ping\"\ndescription = \"d\"\nprogram = \"/bin/echo\"\n"
    );

    let (code, stderr, made_database) = serve_with(&standin, &bad).await;

    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("COMMANDS_FILE") && stderr.contains("has 2 problem(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n10: program /nonexistent/df does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("\n12: name \"ping\" is taken"), "{stderr}");
    assert!(!made_database, "serve stopped before opening the database");
    assert!(standin.calls().is_empty(), "serve called the Bot API");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commands_file_that_is_not_toml_stops_serve_naming_the_line() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let broken = format!("{GOOD}timeout = \"30s\n");

    let (code, stderr, made_database) = serve_with(&standin, &broken).await;

    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("\n6: "), "{stderr}");
    assert!(!made_database && standin.calls().is_empty(), "{stderr}");
}
