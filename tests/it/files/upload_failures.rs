//! Downloads that fail: retried on passing failures, reported to the user
//! when they fail for good, and leaving no partial file behind.

use telegate::standin::Fault;

use super::{document, fetches, names_in, private_message, reply_to, send_document, upload_app};
use crate::support::OWNER;

#[tokio::test]
async fn a_download_failing_for_good_is_reported_to_the_user() {
    let (app, dir) = upload_app(&[]).await;
    app.standin.fail_always("download", Fault::internal_error());

    let reply = send_document(&app, 1, OWNER, "report.pdf", b"data").await;

    assert_eq!(
        reply,
        "report.pdf could not be downloaded (the Bot API answered 500: Internal Server Error). Send it again later."
    );
    let (_, downloads) = fetches(&app);
    assert_eq!(downloads, 5, "tried five times");
    assert!(
        names_in(&dir.join("4242")).is_empty(),
        "no partial file left"
    );
    let outcomes = app.audit_outcomes_of_kind("upload").await;
    assert_eq!(outcomes.len(), 1);
    assert!(
        outcomes[0].starts_with("upload report.pdf: failed: "),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn passing_failures_of_getfile_and_the_download_are_retried() {
    let (app, dir) = upload_app(&[]).await;
    app.standin.fail_next("getFile", Fault::Drop);
    app.standin.fail_next("download", Fault::internal_error());
    app.standin.fail_next("download", Fault::HtmlBadGateway);

    let reply = send_document(&app, 1, OWNER, "report.pdf", b"data").await;

    assert!(reply.starts_with("Stored as 4242/report.pdf "), "{reply}");
    assert_eq!(fetches(&app), (2, 3));
    assert_eq!(names_in(&dir.join("4242")), ["report.pdf"]);
}

#[tokio::test]
async fn a_file_getfile_does_not_know_is_reported_at_once() {
    let (app, _dir) = upload_app(&[]).await;
    let mut file = app.standin.add_file(b"data");
    file["file_id"] = serde_json::json!("no-such-file");
    let update = private_message(1, OWNER, document(&file, Some("a.txt")));

    let reply = reply_to(&app, 1, &update).await;

    assert_eq!(
        reply,
        "a.txt could not be downloaded (the Bot API answered 400: Bad Request: invalid file_id). Send it again later."
    );
    assert_eq!(fetches(&app), (1, 0));
}

#[tokio::test]
async fn a_file_the_bot_api_calls_too_big_is_reported_with_the_20_mb_limit() {
    // A limit raised for a self-hosted Bot API server, but the stand-in
    // serves only 20 MB, as the public Bot API does.
    let (app, _dir) = upload_app(&[("UPLOAD_MAX_BYTES", "100000000")]).await;
    let file = app.standin.add_zero_file(30 * 1024 * 1024);
    let update = private_message(1, OWNER, document(&file, Some("big.iso")));

    let reply = reply_to(&app, 1, &update).await;

    assert_eq!(
        reply,
        "big.iso was not stored: the Bot API serves files up to 20 MB only (a self-hosted Bot API server in --local mode serves larger ones)."
    );
    assert_eq!(fetches(&app), (1, 0));
}
