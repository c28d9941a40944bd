//! Files through the chat. From the phone to the server: documents,
//! photos and voice messages posted to the real webhook, fetched from the
//! stand-in with getFile and its file URL, and stored under a real
//! UPLOAD_DIR. From the server to the phone: `/get` from DOWNLOAD_DIRS and
//! `notify --file`.

mod download;
mod download_notify;
mod download_outputs;
mod download_race;
mod upload;
mod upload_failures;
mod upload_names;
mod upload_refusals;
mod upload_relay;
mod upload_restart;
mod upload_symlinks;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{DEADLINE, TestApp};

/// A second allowed user (ALLOWED_CHAT_IDS), besides the owner.
pub const FRIEND: i64 = 5151;

/// A server with UPLOAD_DIR set (an empty directory of the test's) and
/// `extra` settings; returns it and the directory.
pub async fn upload_app(extra: &[(&str, &str)]) -> (TestApp, PathBuf) {
    let mut app = TestApp::prepare(extra).await;
    let dir = app.dir.path().join("uploads");
    std::fs::create_dir(&dir).expect("upload dir made");
    app.vars
        .entry("UPLOAD_DIR".into())
        .or_insert_with(|| dir.display().to_string());
    app.vars
        .entry("ALLOWED_CHAT_IDS".into())
        .or_insert_with(|| FRIEND.to_string());
    app.start().await;
    (app, dir)
}

/// A message from `user` in their private chat with `fields` (a document,
/// photo...), as Telegram sends it.
pub fn private_message(update_id: i64, user: i64, fields: Value) -> Value {
    let mut message = json!({
        "message_id": update_id,
        "from": {"id": user, "is_bot": false, "first_name": "Someone"},
        "chat": {"id": user, "type": "private", "first_name": "Someone"},
        "date": 1_700_000_000,
    });
    for (k, v) in fields.as_object().expect("fields are an object") {
        message[k] = v.clone();
    }
    json!({"update_id": update_id, "message": message})
}

/// A document named `name` (none when `None`) with the stand-in's `file`.
pub fn document(file: &Value, name: Option<&str>) -> Value {
    let mut document = file.clone();
    if let Some(name) = name {
        document["file_name"] = json!(name);
    }
    json!({ "document": document })
}

/// `user` sends `update`; returns the bot's reply to message `update_id`
/// (the message that carried the file).
pub async fn reply_to(app: &TestApp, update_id: i64, update: &Value) -> String {
    assert_eq!(app.post_update(update).await.status(), 200);
    app.wait_handled(update_id).await;
    wait_reply(app, update_id).await
}

/// The bot's reply to message `message_id`, once it came.
pub async fn wait_reply(app: &TestApp, message_id: i64) -> String {
    wait_reply_on(&app.standin, message_id).await
}

/// [`wait_reply`] on a stand-in.
pub async fn wait_reply_on(standin: &telegate::standin::StandIn, message_id: i64) -> String {
    standin
        .wait_for(DEADLINE, |calls| {
            calls.iter().find_map(|c| {
                let replies = c.method == "sendMessage"
                    && c.status == 200
                    && c.params["reply_parameters"]["message_id"].as_i64() == Some(message_id);
                replies.then(|| c.params["text"].as_str().unwrap_or_default().to_owned())
            })
        })
        .await
        .unwrap_or_else(|| panic!("no reply to message {message_id}"))
}

/// `user` sends a document named `name` holding `content`; returns the reply.
pub async fn send_document(
    app: &TestApp,
    update_id: i64,
    user: i64,
    name: &str,
    content: &[u8],
) -> String {
    let file = app.standin.add_file(content);
    let update = private_message(update_id, user, document(&file, Some(name)));
    reply_to(app, update_id, &update).await
}

/// The names in `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// How many getFile calls and file downloads the stand-in saw.
pub fn fetches(app: &TestApp) -> (usize, usize) {
    let calls = app.standin.calls();
    let count = |m: &str| calls.iter().filter(|c| c.method == m).count();
    (count("getFile"), count("download"))
}
