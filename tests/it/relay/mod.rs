//! The relay through the chat: real programs started by messages and
//! buttons posted to the real webhook, their status messages as the
//! stand-in holds them.

mod cancel;
mod confirm;
mod injection;
mod limits;
mod output;
mod use_;

use std::path::PathBuf;

use serde_json::Value;
use telegate::{
    standin::SentMessage,
    store::jobs::{self, Job},
};

use crate::support::{DEADLINE, TestApp, eventually, updates::private_text};

/// A second allowed user (ALLOWED_CHAT_IDS), besides the owner.
pub const FRIEND: i64 = 5151;
/// Someone nobody allowed.
pub const STRANGER: i64 = 6161;

/// The test program that prints its argv, environment, working directory
/// and input as JSON (examples/argv_json.rs, built by `cargo test`).
pub fn argv_json() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let program = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug")
        .join("examples/argv_json");
    assert!(
        program.exists(),
        "{} is missing: `cargo test` builds it (or `cargo build --example argv_json`)",
        program.display()
    );
    program
}

/// A server with `commands` as its COMMANDS_FILE (`@ARGV_JSON@` stands for
/// the test program), FRIEND allowed, and `extra` settings.
pub async fn relay_app(commands: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut app = TestApp::prepare(extra).await;
    let file = app.dir.path().join("commands.toml");
    let text = commands.replace("@ARGV_JSON@", &argv_json().display().to_string());
    std::fs::write(&file, text).expect("commands file written");
    app.vars
        .insert("COMMANDS_FILE".into(), file.display().to_string());
    app.vars
        .entry("ALLOWED_CHAT_IDS".into())
        .or_insert_with(|| FRIEND.to_string());
    app.start().await;
    app
}

/// `user` sends `text` in their private chat.
pub async fn send(app: &TestApp, update_id: i64, user: i64, text: &str) {
    let answer = app.post_update(&private_text(update_id, user, text)).await;
    assert_eq!(answer.status(), 200);
    app.wait_handled(update_id).await;
}

/// The newest job, once there is one with an id above `after`.
pub async fn job_after(app: &TestApp, after: i64) -> Job {
    eventually(|| async {
        jobs::recent(app.db(), None, false, 1)
            .await
            .unwrap()
            .into_iter()
            .find(|j| j.id > after)
    })
    .await
    .unwrap_or_else(|| panic!("no job after {after} started"))
}

/// How many jobs were ever started.
pub async fn job_count(app: &TestApp) -> usize {
    jobs::recent(app.db(), None, false, 1000)
        .await
        .unwrap()
        .len()
}

/// Job `id` once it has ended.
pub async fn ended(app: &TestApp, id: i64) -> Job {
    ended_within(app, id, DEADLINE).await
}

pub async fn ended_within(app: &TestApp, id: i64, deadline: std::time::Duration) -> Job {
    crate::support::eventually_within(deadline, || async {
        jobs::get(app.db(), id)
            .await
            .unwrap()
            .filter(|j| !matches!(j.state.as_str(), "queued" | "running"))
    })
    .await
    .unwrap_or_else(|| panic!("job {id} did not end in time"))
}

/// The job's status message as it is now, once it was sent.
pub async fn status_message(app: &TestApp, job: &Job) -> SentMessage {
    let call = job.status_call.expect("a job has a status message");
    let message_id: i64 = eventually(|| async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT message_id FROM outbox WHERE id = ?")
            .bind(call)
            .fetch_one(app.db())
            .await
            .unwrap()
    })
    .await
    .expect("the status message was sent");
    app.standin
        .message(job.chat_id, message_id)
        .expect("the stand-in holds the status message")
}

/// The status message once it shows the end (its buttons gone, a final
/// headline).
pub async fn final_status(app: &TestApp, job: &Job) -> SentMessage {
    let first = status_message(app, job).await;
    app.standin
        .wait_for(DEADLINE, |_| {
            let now = app.standin.message(first.chat_id, first.message_id)?;
            (!now.shown.starts_with('⏳') && now.reply_markup.is_none()).then_some(now)
        })
        .await
        .unwrap_or_else(|| panic!("the status message of job {} never showed its end", job.id))
}

/// What a finished job printed: its document when it has one, else the
/// preformatted part of its status message.
pub async fn output_of(app: &TestApp, job: &Job) -> String {
    let status = final_status(app, job).await;
    if !status.shown.contains("in the document below") {
        return preformatted(&status);
    }
    let name = format!("{}-{}.txt", job.command, job.id);
    app.standin
        .wait_for(DEADLINE, |_| {
            app.standin
                .messages(job.chat_id)
                .into_iter()
                .find_map(|m| m.document.filter(|d| d.file_name == name))
        })
        .await
        .unwrap_or_else(|| panic!("no document {name}"))
        .content
}

/// The text shown in the message's `pre` entity.
pub fn preformatted(message: &SentMessage) -> String {
    let Some(pre) = message.entities.iter().find(|e| e["type"] == "pre") else {
        return String::new();
    };
    let units: Vec<u16> = message.shown.encode_utf16().collect();
    let at = |key: &str| usize::try_from(pre[key].as_u64().unwrap()).unwrap();
    let (offset, length) = (at("offset"), at("length"));
    String::from_utf16(&units[offset..offset + length]).unwrap()
}

/// What the argv_json program reported.
pub async fn given(app: &TestApp, job: &Job) -> Value {
    let output = output_of(app, job).await;
    serde_json::from_str(output.trim()).unwrap_or_else(|e| panic!("{e}: {output}"))
}

/// Presses the button labelled `label` under `message` as `user`; returns
/// the update id used.
pub async fn press(app: &TestApp, update_id: i64, message: &SentMessage, user: i64, label: &str) {
    let update = app
        .standin
        .press(update_id, message.chat_id, message.message_id, user, label)
        .unwrap_or_else(|| panic!("no button {label:?} under {message:?}"));
    assert_eq!(app.post_update(&update).await.status(), 200);
    app.wait_handled(update_id).await;
}

/// The newest message the bot sent to `chat` (as it is now).
pub async fn newest_message(app: &TestApp, chat: i64, after: usize) -> SentMessage {
    app.standin
        .wait_for(DEADLINE, |_| {
            let all = app.standin.messages(chat);
            (all.len() > after).then(|| all.last().cloned()).flatten()
        })
        .await
        .unwrap_or_else(|| panic!("no new message in {chat}"))
}

/// Waits until every callback query was answered.
pub async fn all_answered(app: &TestApp) {
    let answered = app
        .standin
        .wait_for(DEADLINE, |_| {
            app.standin.unanswered_callbacks().is_empty().then_some(())
        })
        .await;
    assert!(
        answered.is_some(),
        "unanswered callbacks: {:?}",
        app.standin.unanswered_callbacks()
    );
}
