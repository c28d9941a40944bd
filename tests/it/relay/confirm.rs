//! [Run] [Cancel]: a confirmation works once, only for the person who
//! asked, only in time; forged or stale buttons run nothing; every press
//! is answered.

use std::time::Duration;

use telegate::bot::{REFUSAL, session::NEEDS_SESSION};

use super::{
    FRIEND, STRANGER, all_answered, ended, job_after, job_count, newest_message, press, relay_app,
    send,
};
use crate::support::{OWNER, TestApp, eventually};

const COMMANDS: &str = r#"
[[command]]
name = "deploy"
description = "asks first"
program = "@ARGV_JSON@"
args = ["{target}"]
params = [{ name = "target", choices = ["staging", "prod"] }]
confirm = true

[[command]]
name = "reboot"
description = "sensitive"
program = "@ARGV_JSON@"
sensitive = true
"#;

/// Asks for /deploy staging as `user`; returns the question.
async fn ask(app: &TestApp, update_id: i64, user: i64) -> telegate::standin::SentMessage {
    let before = app.standin.messages(user).len();
    send(app, update_id, user, "/deploy staging").await;
    let question = newest_message(app, user, before).await;
    assert!(
        question.shown.starts_with("Run /deploy staging?"),
        "{}",
        question.shown
    );
    let labels: Vec<String> = question.buttons().into_iter().map(|b| b.text).collect();
    assert_eq!(labels, ["Run", "Cancel"]);
    question
}

/// Waits for an answer to a callback query that says `needle`; returns
/// how many say it.
async fn answers_with(app: &TestApp, needle: &str) -> usize {
    let count = || {
        app.standin
            .callback_answers()
            .iter()
            .filter(|a| a["text"].as_str().unwrap_or_default().contains(needle))
            .count()
    };
    app.standin
        .wait_for(crate::support::DEADLINE, |_| (count() > 0).then_some(()))
        .await;
    count()
}

#[tokio::test]
async fn a_confirmation_runs_the_command_once() {
    let app = relay_app(COMMANDS, &[]).await;
    let question = ask(&app, 1, OWNER).await;
    assert_eq!(job_count(&app).await, 0, "nothing runs before [Run]");

    press(&app, 2, &question, OWNER, "Run").await;
    let job = ended(&app, job_after(&app, 0).await.id).await;
    assert_eq!(job.state, "succeeded");
    // The question's message became the job's status.
    let status = super::final_status(&app, &job).await;
    assert_eq!(status.message_id, question.message_id);
    assert!(
        status.shown.starts_with("✅ /deploy staging"),
        "{}",
        status.shown
    );

    // The same button again (a replay): answered, nothing runs.
    let replay = app.standin.press_nth(
        3,
        (question.chat_id, question.message_id),
        &serde_json::json!({"id": OWNER, "is_bot": false, "first_name": "Owner"}),
        0,
    );
    // The keyboard is gone from the message, so the press is rebuilt from the
    // question as it was.
    let replay = replay.unwrap_or_else(|| replayed(&question, 3, OWNER, 0));
    app.post_update(&replay).await;
    app.wait_handled(3).await;
    all_answered(&app).await;
    assert_eq!(job_count(&app).await, 1);
    assert_eq!(answers_with(&app, "no longer works").await, 1);
}

/// A callback_query for the `nth` button of `message` as it was when sent,
/// as a client holding a stale copy (or an attacker replaying it) sends it.
fn replayed(
    message: &telegate::standin::SentMessage,
    update_id: i64,
    from: i64,
    nth: usize,
) -> serde_json::Value {
    let data = message.buttons()[nth].callback_data.clone().unwrap();
    forged(message, update_id, from, &data)
}

fn forged(
    message: &telegate::standin::SentMessage,
    update_id: i64,
    from: i64,
    data: &str,
) -> serde_json::Value {
    serde_json::json!({
        "update_id": update_id,
        "callback_query": {
            "id": format!("forged-{update_id}"),
            "from": {"id": from, "is_bot": false, "first_name": "Someone"},
            "message": {
                "message_id": message.message_id,
                "chat": {"id": message.chat_id, "type": "private", "first_name": "Someone"},
                "date": message.date,
                "text": message.shown,
            },
            "chat_instance": "1",
            "data": data,
        }
    })
}

#[tokio::test]
async fn another_user_pressing_the_button_is_refused_and_nothing_runs() {
    let app = relay_app(COMMANDS, &[]).await;
    let question = ask(&app, 1, OWNER).await;

    // FRIEND may use the bot, but the question is the owner's.
    app.post_update(&replayed(&question, 2, FRIEND, 0)).await;
    app.wait_handled(2).await;
    all_answered(&app).await;
    assert_eq!(answers_with(&app, "not yours").await, 1);
    assert_eq!(job_count(&app).await, 0);

    // The owner's own press still works afterwards.
    press(&app, 3, &question, OWNER, "Run").await;
    assert_eq!(
        ended(&app, job_after(&app, 0).await.id).await.state,
        "succeeded"
    );
}

#[tokio::test]
async fn cancel_answers_the_question_and_run_then_does_nothing() {
    let app = relay_app(COMMANDS, &[]).await;
    let question = ask(&app, 1, OWNER).await;

    press(&app, 2, &question, OWNER, "Cancel").await;
    let closed = app
        .standin
        .wait_for(crate::support::DEADLINE, |_| {
            let now = app.standin.message(OWNER, question.message_id)?;
            now.reply_markup.is_none().then_some(now)
        })
        .await
        .expect("the buttons are removed");
    assert!(closed.shown.contains("not run"), "{}", closed.shown);

    app.post_update(&replayed(&question, 3, OWNER, 0)).await;
    app.wait_handled(3).await;
    all_answered(&app).await;
    assert_eq!(job_count(&app).await, 0);
}

#[tokio::test]
async fn an_expired_confirmation_loses_its_buttons_and_runs_nothing() {
    let app = relay_app(COMMANDS, &[("CONFIRM_TIMEOUT", "60s")]).await;
    let question = ask(&app, 1, OWNER).await;

    app.clock.advance(Duration::from_secs(61));
    let expired = app
        .standin
        .wait_for(crate::support::DEADLINE, |_| {
            let now = app.standin.message(OWNER, question.message_id)?;
            now.reply_markup.is_none().then_some(now)
        })
        .await
        .expect("the buttons of an expired question are removed");
    assert!(
        expired.shown.contains("not confirmed within 1 min"),
        "{}",
        expired.shown
    );

    app.post_update(&replayed(&question, 2, OWNER, 0)).await;
    app.wait_handled(2).await;
    all_answered(&app).await;
    assert_eq!(job_count(&app).await, 0);
}

#[tokio::test]
async fn a_press_arriving_after_the_expiry_runs_nothing_even_before_the_sweep() {
    let app = relay_app(COMMANDS, &[("CONFIRM_TIMEOUT", "60s")]).await;
    let question = ask(&app, 1, OWNER).await;
    // The clock moves on without waking the sweeper's timer first: the
    // press itself checks the expiry.
    app.clock.advance(Duration::from_secs(61));
    app.post_update(&replayed(&question, 2, OWNER, 0)).await;
    app.wait_handled(2).await;
    all_answered(&app).await;
    assert_eq!(job_count(&app).await, 0);
}

#[tokio::test]
async fn forged_button_data_is_answered_audited_and_runs_nothing() {
    let app = relay_app(COMMANDS, &[]).await;
    let question = ask(&app, 1, OWNER).await;
    let run = question.buttons()[0].callback_data.clone().unwrap();

    for (n, data) in [
        "run:deploy:prod",
        "1",
        &run[..run.len() - 1],
        &format!("{run}x"),
        &"A".repeat(64),
    ]
    .into_iter()
    .enumerate()
    {
        let update_id = 10 + i64::try_from(n).unwrap();
        app.post_update(&forged(&question, update_id, OWNER, data))
            .await;
        app.wait_handled(update_id).await;
    }
    all_answered(&app).await;
    assert_eq!(job_count(&app).await, 0);
    let refused = app.audit_outcomes(OWNER).await;
    let forged_rows = refused
        .iter()
        .filter(|o| o.contains("unknown or used button"))
        .count();
    assert_eq!(forged_rows, 5, "{refused:?}");
    // The real button still works: forging did not use it up.
    press(&app, 20, &question, OWNER, "Run").await;
    assert_eq!(
        ended(&app, job_after(&app, 0).await.id).await.state,
        "succeeded"
    );
}

#[tokio::test]
async fn a_stranger_pressing_a_button_gets_an_answer_and_nothing_else() {
    let app = relay_app(COMMANDS, &[]).await;
    let question = ask(&app, 1, OWNER).await;

    app.post_update(&replayed(&question, 2, STRANGER, 0)).await;
    app.wait_handled(2).await;
    all_answered(&app).await;
    assert_eq!(answers_with(&app, REFUSAL).await, 1);
    assert_eq!(job_count(&app).await, 0);
}

#[tokio::test]
async fn a_sensitive_command_needs_a_session_before_it_even_asks() {
    let app = relay_app(COMMANDS, &[("ENROLLMENT_PASSCODE", "correct-horse-42")]).await;
    assert_eq!(app.say(1, OWNER, "/reboot").await, NEEDS_SESSION);
    assert_eq!(job_count(&app).await, 0);

    let opened = app.say(2, OWNER, "/auth correct-horse-42").await;
    assert!(opened.starts_with("Session open"), "{opened}");
    let before = app.standin.messages(OWNER).len();
    send(&app, 3, OWNER, "/reboot").await;
    let question = newest_message(&app, OWNER, before).await;
    assert!(
        question.shown.starts_with("Run /reboot?"),
        "{}",
        question.shown
    );
    press(&app, 4, &question, OWNER, "Run").await;
    let job = ended(&app, job_after(&app, 0).await.id).await;
    assert_eq!(job.state, "succeeded");
    eventually(|| async { app.standin.unanswered_callbacks().is_empty().then_some(()) })
        .await
        .expect("the press is answered");
}

#[tokio::test]
async fn a_question_asked_before_the_commands_file_changed_runs_nothing() {
    let app = relay_app(COMMANDS, &[]).await;
    let question = ask(&app, 1, OWNER).await;

    let file = app.dir.path().join("commands.toml");
    let changed = std::fs::read_to_string(&file).unwrap().replace(
        r#"args = ["{target}"]"#,
        r#"args = ["--target", "{target}"]"#,
    );
    std::fs::write(&file, changed).unwrap();
    assert_eq!(app.reload_commands().await.unwrap(), Some(2));

    press(&app, 2, &question, OWNER, "Run").await;
    all_answered(&app).await;
    assert_eq!(answers_with(&app, "changed since you asked").await, 1);
    assert_eq!(job_count(&app).await, 0);
}

#[tokio::test]
async fn a_bad_commands_file_on_reload_keeps_the_commands_in_force() {
    let app = relay_app(COMMANDS, &[]).await;
    let file = app.dir.path().join("commands.toml");
    std::fs::write(&file, "[[command]]\nname = \"Bad Name\"\n").unwrap();

    let error = app.reload_commands().await.unwrap_err().to_string();
    assert!(
        error.contains("1: missing field `description`"),
        "the problem is named by its line: {error}"
    );
    let question = ask(&app, 1, OWNER).await;
    press(&app, 2, &question, OWNER, "Run").await;
    assert_eq!(
        ended(&app, job_after(&app, 0).await.id).await.state,
        "succeeded"
    );
}

#[tokio::test]
async fn a_press_dropped_by_the_flood_limit_is_still_answered() {
    let app = relay_app(COMMANDS, &[("INBOUND_LIMIT_PER_MIN", "1")]).await;
    let question = ask(&app, 1, OWNER).await;

    for update_id in [2, 3] {
        let update = app
            .standin
            .press(
                update_id,
                question.chat_id,
                question.message_id,
                OWNER,
                "Run",
            )
            .unwrap();
        app.post_update(&update).await;
        app.wait_handled(update_id).await;
    }
    all_answered(&app).await;
    assert_eq!(job_count(&app).await, 0);
}
