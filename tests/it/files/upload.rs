//! A file stored: where, with which mode, the reply and the audit row.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use super::{FRIEND, names_in, private_message, reply_to, send_document, upload_app};
use crate::support::OWNER;

#[tokio::test]
async fn a_document_is_stored_in_the_senders_directory_and_the_reply_says_where() {
    let (app, dir) = upload_app(&[]).await;
    let content = b"quarterly numbers\n";

    let reply = send_document(&app, 1, OWNER, "report.pdf", content).await;

    assert_eq!(
        reply,
        "Stored as 4242/report.pdf in the upload directory: 18 bytes."
    );
    let stored = dir.join("4242/report.pdf");
    assert_eq!(std::fs::read(&stored).unwrap(), content);
    let mode = std::fs::metadata(&stored).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the file is private to telegate");
    let user_dir = std::fs::metadata(dir.join("4242"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(user_dir & 0o777, 0o700);
    // No temporary file is left behind.
    assert_eq!(names_in(&dir.join("4242")), ["report.pdf"]);
}

#[tokio::test]
async fn the_audit_row_holds_the_name_size_and_sha256_never_the_content() {
    let (app, _dir) = upload_app(&[]).await;
    let content = b"the secret plans";

    send_document(&app, 1, OWNER, "plans.txt", content).await;

    let outcomes = app.audit_outcomes_of_kind("upload").await;
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert!(
        outcomes[0].starts_with("upload stored: 4242/plans.txt, 16 bytes, sha256 "),
        "{outcomes:?}"
    );
    let hash = outcomes[0].rsplit(' ').next().unwrap();
    assert_eq!(hash.len(), 64);
    assert_eq!(hash, sha256_hex(content));
    let all: Vec<String> = sqlx::query_scalar("SELECT outcome FROM audit")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert!(all.iter().all(|o| !o.contains("secret plans")), "{all:?}");
}

#[tokio::test]
async fn a_second_file_of_the_same_name_never_overwrites_the_first() {
    let (app, dir) = upload_app(&[]).await;
    std::fs::create_dir(dir.join("4242")).unwrap();
    std::fs::write(dir.join("4242/notes.txt"), "planted by the operator").unwrap();

    let first = send_document(&app, 1, OWNER, "notes.txt", b"one").await;
    let second = send_document(&app, 2, OWNER, "notes.txt", b"two").await;

    assert!(first.starts_with("Stored as 4242/notes-1.txt "), "{first}");
    assert!(
        second.starts_with("Stored as 4242/notes-2.txt "),
        "{second}"
    );
    let read = |name: &str| std::fs::read_to_string(dir.join("4242").join(name)).unwrap();
    assert_eq!(read("notes.txt"), "planted by the operator");
    assert_eq!(read("notes-1.txt"), "one");
    assert_eq!(read("notes-2.txt"), "two");
}

#[tokio::test]
async fn each_user_has_a_directory_of_their_own() {
    let (app, dir) = upload_app(&[]).await;

    send_document(&app, 1, OWNER, "a.txt", b"owner's").await;
    let reply = send_document(&app, 2, FRIEND, "a.txt", b"friend's").await;

    assert!(reply.starts_with("Stored as 5151/a.txt "), "{reply}");
    assert_eq!(
        std::fs::read_to_string(dir.join("4242/a.txt")).unwrap(),
        "owner's"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("5151/a.txt")).unwrap(),
        "friend's"
    );
}

#[tokio::test]
async fn photos_and_voice_messages_get_generated_names() {
    let (app, dir) = upload_app(&[]).await;
    let small = app.standin.add_file(b"tiny jpeg");
    let large = app.standin.add_file(b"the largest jpeg");
    let photo = json!({"photo": [
        {"file_id": small["file_id"], "file_unique_id": small["file_unique_id"], "width": 90, "height": 90, "file_size": 9},
        {"file_id": large["file_id"], "file_unique_id": large["file_unique_id"], "width": 1280, "height": 1280, "file_size": 16},
    ]});
    let voice_file = app.standin.add_file(b"ogg opus");
    let mut voice = voice_file.clone();
    voice["duration"] = json!(3);

    let photo_reply = reply_to(&app, 1, &private_message(1, OWNER, photo)).await;
    let voice_reply = reply_to(&app, 2, &private_message(2, OWNER, json!({"voice": voice}))).await;

    assert!(
        photo_reply.starts_with("Stored as 4242/photo-"),
        "{photo_reply}"
    );
    assert!(
        voice_reply.starts_with("Stored as 4242/voice-"),
        "{voice_reply}"
    );
    let names = names_in(&dir.join("4242"));
    assert_eq!(names.len(), 2, "{names:?}");
    let photo_name = names.iter().find(|n| n.starts_with("photo-")).unwrap();
    assert!(photo_name.ends_with(".jpg"), "{photo_name}");
    // The largest size of the photo is the one kept.
    let kept = std::fs::read(dir.join("4242").join(photo_name)).unwrap();
    assert_eq!(kept, b"the largest jpeg");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("voice-") && n.ends_with(".ogg"))
    );
}

#[tokio::test]
async fn a_large_file_is_streamed_to_disk_whole() {
    let (app, dir) = upload_app(&[]).await;
    let size: u64 = 15 * 1024 * 1024;
    let file = app.standin.add_zero_file(size);
    let update = private_message(1, OWNER, super::document(&file, Some("disk.img")));

    let reply = reply_to(&app, 1, &update).await;

    assert_eq!(
        reply,
        "Stored as 4242/disk.img in the upload directory: 15.0 MB (15728640 bytes)."
    );
    assert_eq!(
        std::fs::metadata(dir.join("4242/disk.img")).unwrap().len(),
        size
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
