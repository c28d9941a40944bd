//! Files that are not stored, and never fetched: over the limit, uploads
//! off, from a group, forwarded, edited, from a stranger.

use serde_json::json;

use super::{document, fetches, private_message, upload_app};
use crate::support::{OWNER, TestApp};

#[tokio::test]
async fn a_file_over_upload_max_bytes_is_refused_before_any_getfile_call() {
    let (app, dir) = upload_app(&[("UPLOAD_MAX_BYTES", "1000")]).await;
    let file = app.standin.add_file(&[7u8; 5000]);
    let update = private_message(1, OWNER, document(&file, Some("big.bin")));

    assert_eq!(app.post_update(&update).await.status(), 200);
    let reply = app.wait_texts_to(OWNER, 1).await.remove(0);

    assert_eq!(
        reply,
        "big.bin is 4.9 KB (5000 bytes): over the upload limit of 1000 bytes (UPLOAD_MAX_BYTES), so it was not downloaded."
    );
    assert_eq!(fetches(&app), (0, 0), "nothing was fetched");
    assert!(super::names_in(&dir).is_empty());
    let outcomes = app.audit_outcomes(OWNER).await;
    assert!(
        outcomes.contains(&"refused: 5000 bytes, over UPLOAD_MAX_BYTES".to_owned()),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_file_over_the_default_20_mb_is_refused_with_its_size() {
    let (app, _dir) = upload_app(&[]).await;
    let file = app.standin.add_zero_file(25 * 1024 * 1024);
    let update = private_message(1, OWNER, document(&file, Some("video.mkv")));

    assert_eq!(app.post_update(&update).await.status(), 200);
    let reply = app.wait_texts_to(OWNER, 1).await.remove(0);

    assert_eq!(
        reply,
        "video.mkv is 25.0 MB (26214400 bytes): over the upload limit of 20.0 MB (20971520 bytes) (UPLOAD_MAX_BYTES), so it was not downloaded."
    );
    assert_eq!(fetches(&app), (0, 0));
}

#[tokio::test]
async fn without_upload_dir_a_file_gets_a_short_uploads_are_off_reply() {
    let app = TestApp::spawn().await;
    let file = app.standin.add_file(b"data");
    let update = private_message(1, OWNER, document(&file, Some("a.txt")));

    assert_eq!(app.post_update(&update).await.status(), 200);
    let texts = app.wait_texts_to(OWNER, 1).await;

    assert_eq!(
        texts,
        ["Uploads are off on this server (UPLOAD_DIR is not set), so the file was not kept."]
    );
    assert_eq!(fetches(&app), (0, 0));
}

#[tokio::test]
async fn a_file_sent_in_an_allowed_group_is_refused_and_not_fetched() {
    let group = -100_123_456_i64;
    let (app, dir) = upload_app(&[("ALLOWED_CHAT_IDS", &format!("{group},5151"))]).await;
    let file = app.standin.add_file(b"data");
    let mut update = private_message(1, OWNER, document(&file, Some("a.txt")));
    update["message"]["chat"] = json!({"id": group, "type": "supergroup", "title": "Ops"});

    assert_eq!(app.post_update(&update).await.status(), 200);
    let texts = app.wait_texts_to(group, 1).await;

    assert_eq!(
        texts,
        ["Send files in a private chat with me: uploads are kept per user, not for a group."]
    );
    assert_eq!(fetches(&app), (0, 0));
    assert!(super::names_in(&dir).is_empty());
}

#[tokio::test]
async fn a_forwarded_file_is_not_stored() {
    let (app, dir) = upload_app(&[]).await;
    let file = app.standin.add_file(b"someone else's");
    let mut fields = document(&file, Some("a.txt"));
    fields["forward_origin"] =
        json!({"type": "hidden_user", "date": 1_700_000_000, "sender_user_name": "X"});

    assert_eq!(
        app.post_update(&private_message(1, OWNER, fields))
            .await
            .status(),
        200
    );
    let texts = app.wait_texts_to(OWNER, 1).await;

    assert!(texts[0].contains("this one was forwarded"), "{texts:?}");
    assert_eq!(fetches(&app), (0, 0));
    assert!(super::names_in(&dir).is_empty());
}

#[tokio::test]
async fn a_file_swapped_into_an_edited_message_is_not_stored() {
    let (app, dir) = upload_app(&[]).await;
    let file = app.standin.add_file(b"edited in");
    let mut update = private_message(1, OWNER, document(&file, Some("a.txt")));
    let message = update["message"].take();
    update = json!({"update_id": 1, "edited_message": message});
    update["edited_message"]["edit_date"] = json!(1_700_000_100);

    assert_eq!(app.post_update(&update).await.status(), 200);
    app.wait_handled(1).await;

    assert_eq!(fetches(&app), (0, 0));
    assert!(super::names_in(&dir).is_empty());
}

#[tokio::test]
async fn a_strangers_file_is_refused_and_not_fetched() {
    let (app, dir) = upload_app(&[]).await;
    let stranger = 6161;
    let file = app.standin.add_file(b"malware");
    let update = private_message(1, stranger, document(&file, Some("a.sh")));

    assert_eq!(app.post_update(&update).await.status(), 200);
    let texts = app.wait_texts_to(stranger, 1).await;

    assert!(
        texts[0].starts_with("Sorry, this is a private bot."),
        "{texts:?}"
    );
    assert_eq!(fetches(&app), (0, 0));
    assert!(super::names_in(&dir).is_empty());
}
