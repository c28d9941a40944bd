//! `telegate notify --file`: a file through the outbox, streamed by the
//! running server; refused over the limit; and a file that became a
//! symlink pointing out after it was queued is not sent.

use std::os::unix::fs::symlink;

use crate::support::{OWNER, TestApp, eventually, run_telegate};

use super::download::{documents, nth_document};

#[tokio::test]
async fn notify_file_sends_the_file_with_its_caption() {
    let app = TestApp::spawn().await;
    let path = app.dir.path().join("nightly.csv");
    std::fs::write(&path, "day,total\n1,42\n").unwrap();
    let (ok, out, err) = run_telegate(
        &app,
        &[
            "notify",
            "--file",
            &path.display().to_string(),
            "nightly report",
        ],
        "",
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.starts_with("queued as "), "{out}");
    assert_eq!(
        nth_document(&app, 1).await,
        ("nightly.csv".to_owned(), "day,total\n1,42\n".to_owned())
    );
    let sent = app.standin.successful("sendDocument");
    assert_eq!(sent[0]["caption"], "nightly report");
    assert!(
        sent[0].get("document_file").is_none(),
        "the file reference is not sent to Telegram"
    );
}

#[tokio::test]
async fn notify_file_refuses_a_file_over_the_limit_and_a_folder() {
    let mut app = TestApp::spawn().await;
    app.vars.insert("DOWNLOAD_MAX_BYTES".into(), "100".into());
    let path = app.dir.path().join("big.bin");
    std::fs::write(&path, vec![1u8; 150]).unwrap();
    let (ok, _, err) =
        run_telegate(&app, &["notify", "--file", &path.display().to_string()], "").await;
    assert!(!ok);
    assert!(
        err.contains("is 150 bytes, over the limit of 100 bytes"),
        "{err}"
    );
    let folder = app.dir.path().display().to_string();
    let (ok, _, err) = run_telegate(&app, &["notify", "--file", &folder], "").await;
    assert!(!ok);
    assert!(err.contains("is a folder"), "{err}");
    app.stop().await;
}

#[tokio::test]
async fn a_queued_file_replaced_by_a_symlink_pointing_out_is_not_sent_after_a_restart() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let reports = app.dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let path = reports.join("report.txt");
    std::fs::write(&path, "fine").unwrap();
    let (ok, _, err) =
        run_telegate(&app, &["notify", "--file", &path.display().to_string()], "").await;
    assert!(ok, "{err}");
    // Between queueing and sending, the file is swapped for a way out.
    std::fs::write(app.dir.path().join("secret.txt"), "OUTSIDE").unwrap();
    std::fs::remove_file(&path).unwrap();
    symlink("../secret.txt", &path).unwrap();
    app.start().await;
    let dead = eventually(|| async {
        sqlx::query_scalar::<_, String>(
            "SELECT last_error FROM outbox WHERE method = 'sendDocument' AND status = 'dead'",
        )
        .fetch_optional(app.db())
        .await
        .unwrap()
    })
    .await
    .expect("the call is given up on");
    assert!(dead.contains("leads outside"), "{dead}");
    assert!(documents(&app).is_empty());
    assert!(app.standin.successful("sendDocument").is_empty());
    let _ = OWNER;
}

#[tokio::test]
async fn a_30_mb_file_is_sent_whole_as_multipart() {
    let app = TestApp::spawn().await;
    let path = app.dir.path().join("big.log");
    let line = b"0123456789abcdefghijklmnopqrstuvwxyz\n";
    let content: Vec<u8> = line
        .iter()
        .copied()
        .cycle()
        .take(30 * 1000 * 1000)
        .collect();
    std::fs::write(&path, &content).unwrap();
    let (ok, _, err) =
        run_telegate(&app, &["notify", "--file", &path.display().to_string()], "").await;
    assert!(ok, "{err}");
    let (name, received) = nth_document(&app, 1).await;
    assert_eq!(name, "big.log");
    assert_eq!(received.len(), content.len());
    assert!(
        received.as_bytes() == content.as_slice(),
        "the content arrived intact"
    );
}
