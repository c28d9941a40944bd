//! `/get`: refused outside DOWNLOAD_DIRS (also through a symlink that points
//! out), folders listed with buttons, files over the limit refused, a file
//! sent after [Send].

use std::{os::unix::fs::symlink, path::PathBuf};

use telegate::standin::SentMessage;

use crate::{
    relay::{all_answered, newest_message, press, send},
    support::{DEADLINE, OWNER, TestApp},
};

pub const PASSCODE: &str = "correct-horse-42";

/// A server whose DOWNLOAD_DIRS is `<tmp>/shared` (returned), with a
/// folder `<tmp>/outside` beside it holding `secret.txt`, and the owner's
/// session open (update 1).
pub async fn get_app(extra: &[(&str, &str)]) -> (TestApp, PathBuf) {
    let mut app = TestApp::prepare(&[("ENROLLMENT_PASSCODE", PASSCODE)]).await;
    let root = app.dir.path().join("shared");
    let outside = app.dir.path().join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "OUTSIDE").unwrap();
    app.vars
        .insert("DOWNLOAD_DIRS".into(), root.display().to_string());
    for (k, v) in extra {
        app.vars.insert((*k).to_owned(), (*v).to_owned());
    }
    app.start().await;
    let opened = app.say(1, OWNER, &format!("/auth {PASSCODE}")).await;
    assert!(opened.starts_with("Session open"), "{opened}");
    (app, root)
}

/// The documents the owner received so far, as (name, content).
pub fn documents(app: &TestApp) -> Vec<(String, String)> {
    app.standin
        .messages(OWNER)
        .into_iter()
        .filter_map(|m| m.document)
        .map(|d| (d.file_name, d.content))
        .collect()
}

/// `/get path` as update `id`; the bot's answer.
async fn get(app: &TestApp, id: i64, path: &str) -> SentMessage {
    let before = app.standin.messages(OWNER).len();
    send(app, id, OWNER, &format!("/get {path}")).await;
    newest_message(app, OWNER, before).await
}

/// Waits for the `n`th document.
pub async fn nth_document(app: &TestApp, n: usize) -> (String, String) {
    app.standin
        .wait_for(DEADLINE, |_| documents(app).get(n - 1).cloned())
        .await
        .unwrap_or_else(|| panic!("no document {n}"))
}

#[tokio::test]
async fn get_is_off_without_download_dirs() {
    let app = TestApp::spawn().await;
    let reply = app.say(1, OWNER, "/get /etc/hostname").await;
    assert!(reply.starts_with("/get is off"), "{reply}");
}

#[tokio::test]
async fn get_needs_a_session() {
    let mut app = TestApp::prepare(&[("ENROLLMENT_PASSCODE", PASSCODE)]).await;
    let root = app.dir.path().to_owned();
    app.vars
        .insert("DOWNLOAD_DIRS".into(), root.display().to_string());
    app.start().await;
    let reply = app.say(1, OWNER, "/get telegate.db").await;
    assert!(reply.contains("needs a session"), "{reply}");
    assert!(app.standin.successful("sendDocument").is_empty());
}

#[tokio::test]
async fn get_refuses_paths_outside_download_dirs() {
    let (app, root) = get_app(&[]).await;
    let outside = app.dir.path().join("outside/secret.txt");
    let reply = get(&app, 2, &outside.display().to_string()).await;
    assert!(
        reply.shown.contains("is not inside the folders"),
        "{}",
        reply.shown
    );
    let reply = get(&app, 3, "../outside/secret.txt").await;
    assert!(reply.shown.contains("leads outside"), "{}", reply.shown);
    let climbing = format!("{}/../outside/secret.txt", root.display());
    let reply = get(&app, 4, &climbing).await;
    assert!(reply.shown.contains("leads outside"), "{}", reply.shown);
    assert!(app.standin.successful("sendDocument").is_empty());
}

#[tokio::test]
async fn get_refuses_a_symlink_in_a_root_that_points_out() {
    let (app, root) = get_app(&[]).await;
    let outside = app.dir.path().join("outside");
    symlink(outside.join("secret.txt"), root.join("absolute-link")).unwrap();
    symlink("../outside/secret.txt", root.join("relative-link")).unwrap();
    symlink("../outside", root.join("folder-link")).unwrap();
    for (id, path) in [
        (2, "absolute-link"),
        (3, "relative-link"),
        (4, "folder-link/secret.txt"),
    ] {
        let reply = get(&app, id, path).await;
        assert!(
            reply.shown.contains("leads outside"),
            "{path}: {}",
            reply.shown
        );
    }
    // A symlink that stays inside is followed.
    std::fs::write(root.join("real.txt"), "INSIDE").unwrap();
    symlink("real.txt", root.join("inside-link")).unwrap();
    let question = get(&app, 5, "inside-link").await;
    assert!(question.shown.starts_with("Send "), "{}", question.shown);
    press(&app, 6, &question, OWNER, "Send").await;
    assert_eq!(
        nth_document(&app, 1).await,
        ("inside-link".to_owned(), "INSIDE".to_owned())
    );
    assert!(documents(&app).iter().all(|(_, c)| c != "OUTSIDE"));
}

#[tokio::test]
async fn get_sends_a_file_after_send_is_pressed_and_not_after_cancel() {
    let (app, root) = get_app(&[]).await;
    std::fs::write(root.join("report.txt"), "quarterly numbers").unwrap();
    let question = get(&app, 2, "report.txt").await;
    assert!(
        question
            .shown
            .starts_with(&format!("Send {}/report.txt (17 bytes)?", root.display())),
        "{}",
        question.shown
    );
    press(&app, 3, &question, OWNER, "Cancel").await;
    let question = get(&app, 4, &root.join("report.txt").display().to_string()).await;
    press(&app, 5, &question, OWNER, "Send").await;
    assert_eq!(
        nth_document(&app, 1).await,
        ("report.txt".to_owned(), "quarterly numbers".to_owned())
    );
    all_answered(&app).await;
    assert_eq!(documents(&app).len(), 1, "the cancelled one was not sent");
    let audit = app.audit_outcomes(OWNER).await;
    assert!(
        audit
            .iter()
            .any(|o| o.starts_with("sent ") && o.contains("report.txt")),
        "{audit:?}"
    );
    assert!(audit.iter().all(|o| !o.contains("quarterly")), "{audit:?}");
}

#[tokio::test]
async fn a_folder_is_listed_with_a_button_per_entry_and_its_files_can_be_picked() {
    let (app, root) = get_app(&[]).await;
    std::fs::create_dir(root.join("logs")).unwrap();
    std::fs::write(root.join("logs/today.log"), "all quiet").unwrap();
    std::fs::write(root.join("a.txt"), "aaa").unwrap();
    std::fs::write(root.join("b.bin"), vec![0u8; 2500]).unwrap();
    let listing = get(&app, 2, "").await;
    let labels: Vec<String> = listing.buttons().iter().map(|b| b.text.clone()).collect();
    assert_eq!(labels, ["📁 logs/", "a.txt (3 bytes)", "b.bin (2.5 kB)"]);
    assert!(listing.shown.contains("3 entries"), "{}", listing.shown);

    let before = app.standin.messages(OWNER).len();
    press(&app, 3, &listing, OWNER, "📁 logs/").await;
    let logs = newest_message(&app, OWNER, before).await;
    let labels: Vec<String> = logs.buttons().iter().map(|b| b.text.clone()).collect();
    assert_eq!(labels, ["⬆ ..", "today.log (9 bytes)"]);
    press(&app, 4, &logs, OWNER, "today.log (9 bytes)").await;
    assert_eq!(
        nth_document(&app, 1).await,
        ("today.log".to_owned(), "all quiet".to_owned())
    );
    // Someone else's press does nothing.
    let update = app
        .standin
        .press(
            5,
            listing.chat_id,
            listing.message_id,
            777,
            "a.txt (3 bytes)",
        )
        .unwrap();
    app.post_update(&update).await;
    app.wait_handled(5).await;
    all_answered(&app).await;
    assert_eq!(documents(&app).len(), 1);
}

#[tokio::test]
async fn a_listing_shows_at_most_50_entries() {
    let (app, root) = get_app(&[]).await;
    for n in 0..60 {
        std::fs::write(root.join(format!("f{n:02}.txt")), "x").unwrap();
    }
    let listing = get(&app, 2, ".").await;
    assert_eq!(listing.buttons().len(), 50);
    assert!(
        listing.shown.contains("60 entries, the first 50 shown"),
        "{}",
        listing.shown
    );
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_with_its_size() {
    let (app, root) = get_app(&[("DOWNLOAD_MAX_BYTES", "1000")]).await;
    std::fs::write(root.join("big.bin"), vec![7u8; 2000]).unwrap();
    let reply = get(&app, 2, "big.bin").await;
    assert!(
        reply.shown.contains("is 2.0 kB, over the limit of 1.0 kB"),
        "{}",
        reply.shown
    );
    assert!(reply.buttons().is_empty());
    assert!(app.standin.successful("sendDocument").is_empty());
}

#[tokio::test]
async fn help_lists_get_only_when_download_dirs_is_set() {
    let (app, _root) = get_app(&[]).await;
    let help = app.say(2, OWNER, "/help").await;
    assert!(help.contains("/get PATH"), "{help}");
    let plain = TestApp::spawn().await;
    let help = plain.say(1, OWNER, "/help").await;
    assert!(!help.contains("/get"), "{help}");
}
