//! A relay command's upload parameter: the command sent as a reply to a
//! file the user sent gets the stored file's path as one argv element.

use serde_json::json;

use super::{document, private_message, send_document};
use crate::{
    relay::{ended, given, job_after, job_count, newest_message, press, relay_app},
    support::{OWNER, updates::private_text},
};

const COMMANDS: &str = r#"
[[command]]
name = "convert"
description = "converts a file"
program = "@ARGV_JSON@"
args = ["{file}", "{format}"]
params = [
  { name = "file", type = "upload" },
  { name = "format", choices = ["pdf", "png"] },
]
"#;

/// `text` from `user`, as a reply to their message `to` (which carried `fields`).
fn reply(
    update_id: i64,
    user: i64,
    text: &str,
    to: i64,
    fields: serde_json::Value,
) -> serde_json::Value {
    let mut update = private_text(update_id, user, text);
    update["message"]["reply_to_message"] = private_message(to, user, fields)["message"].clone();
    update
}

#[tokio::test]
async fn a_command_replying_to_an_uploaded_file_gets_its_path_as_one_argument() {
    let uploads = tempfile::tempdir().unwrap();
    let dir = uploads.path().display().to_string();
    let app = relay_app(COMMANDS, &[("UPLOAD_DIR", &dir)]).await;
    let stored = send_document(&app, 1, OWNER, "my report.pdf", b"pages").await;
    assert!(
        stored.starts_with("Stored as 4242/my report.pdf "),
        "{stored}"
    );
    let file = app.standin.add_file(b"pages");

    let update = reply(
        2,
        OWNER,
        "/convert png",
        1,
        document(&file, Some("my report.pdf")),
    );
    assert_eq!(app.post_update(&update).await.status(), 200);
    app.wait_handled(2).await;

    let job = job_after(&app, 0).await;
    assert_eq!(ended(&app, job.id).await.state, "succeeded");
    let path = format!("{dir}/4242/my report.pdf");
    assert_eq!(given(&app, &job).await["argv"], json!([path, "png"]));
}

#[tokio::test]
async fn a_command_needing_a_file_without_one_runs_nothing_and_says_how() {
    let uploads = tempfile::tempdir().unwrap();
    let dir = uploads.path().display().to_string();
    let app = relay_app(COMMANDS, &[("UPLOAD_DIR", &dir)]).await;

    let alone = app.say(1, OWNER, "/convert pdf").await;
    // A reply to a message that carried no stored file (the bot's own,
    // or a file never stored) gives no file either.
    let to_nothing = reply(2, OWNER, "/convert pdf", 77, json!({"text": "hello"}));
    assert_eq!(app.post_update(&to_nothing).await.status(), 200);
    let texts = app.wait_texts_to(OWNER, 2).await;

    let expected = "Nothing was run: FILE is a file: send the command as a reply to a file you sent me (once I said it was stored). Usage: /convert FORMAT (as a reply to the file you sent, for FILE)";
    assert_eq!(alone, expected);
    assert_eq!(texts[1], expected);
    assert_eq!(job_count(&app).await, 0);
}

#[tokio::test]
async fn another_users_file_is_never_given_to_a_command() {
    let uploads = tempfile::tempdir().unwrap();
    let dir = uploads.path().display().to_string();
    let app = relay_app(COMMANDS, &[("UPLOAD_DIR", &dir)]).await;
    let friend = crate::relay::FRIEND;
    send_document(&app, 1, friend, "theirs.pdf", b"private").await;
    let file = app.standin.add_file(b"private");

    // The owner's message claims to reply to the friend's message 1 (in
    // the owner's own chat, message 1 is not the friend's).
    let update = reply(
        2,
        OWNER,
        "/convert pdf",
        1,
        document(&file, Some("theirs.pdf")),
    );
    assert_eq!(app.post_update(&update).await.status(), 200);
    let texts = app.wait_texts_to(OWNER, 1).await;

    assert!(
        texts[0].starts_with("Nothing was run: FILE is a file"),
        "{texts:?}"
    );
    assert_eq!(job_count(&app).await, 0);
}

#[tokio::test]
async fn a_file_with_the_command_in_its_caption_is_stored_then_the_command_is_offered_with_it() {
    let uploads = tempfile::tempdir().unwrap();
    let dir = uploads.path().display().to_string();
    let app = relay_app(COMMANDS, &[("UPLOAD_DIR", &dir)]).await;
    let file = app.standin.add_file(b"pages");
    let mut fields = document(&file, Some("a b.pdf"));
    fields["caption"] = json!("/convert png");
    fields["caption_entities"] = json!([{"type": "bot_command", "offset": 0, "length": 8}]);

    let stored = super::reply_to(&app, 1, &private_message(1, OWNER, fields)).await;
    let question = newest_message(&app, OWNER, 1).await;

    assert_eq!(
        stored,
        "Stored as 4242/a b.pdf in the upload directory: 5 bytes."
    );
    assert_eq!(
        question.shown,
        "Run /convert png with 4242/a b.pdf? This works for 1 min and only for you."
    );
    assert_eq!(job_count(&app).await, 0, "nothing runs before [Run]");
    press(&app, 2, &question, OWNER, "Run").await;
    let job = job_after(&app, 0).await;
    assert_eq!(ended(&app, job.id).await.state, "succeeded");
    let path = format!("{dir}/4242/a b.pdf");
    assert_eq!(given(&app, &job).await["argv"], json!([path, "png"]));
}

#[tokio::test]
async fn a_caption_with_wrong_arguments_stores_the_file_and_runs_nothing() {
    let uploads = tempfile::tempdir().unwrap();
    let dir = uploads.path().display().to_string();
    let app = relay_app(COMMANDS, &[("UPLOAD_DIR", &dir)]).await;
    let file = app.standin.add_file(b"pages");
    let mut fields = document(&file, Some("a.pdf"));
    fields["caption"] = json!("/convert gif");

    super::reply_to(&app, 1, &private_message(1, OWNER, fields)).await;
    let texts = app.wait_texts_to(OWNER, 2).await;

    assert!(
        texts[1].starts_with("Nothing was run: FORMAT must be one of: pdf, png."),
        "{texts:?}"
    );
    assert_eq!(job_count(&app).await, 0);
}
