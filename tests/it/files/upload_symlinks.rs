//! Symlinks planted inside UPLOAD_DIR are never followed: nothing is
//! written through them.

use super::{names_in, send_document, upload_app};
use crate::support::OWNER;

#[tokio::test]
async fn a_symlink_planted_as_the_users_directory_is_not_followed() {
    let (app, dir) = upload_app(&[]).await;
    let elsewhere = app.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("4242")).unwrap();

    let reply = send_document(&app, 1, OWNER, "report.pdf", b"data").await;

    assert!(reply.starts_with("report.pdf was not stored: "), "{reply}");
    assert!(reply.contains("not a directory"), "{reply}");
    assert!(
        names_in(&elsewhere).is_empty(),
        "written through the symlink"
    );
    let outcomes = app.audit_outcomes_of_kind("upload").await;
    assert!(
        outcomes[0].starts_with("upload report.pdf: failed: "),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_symlink_planted_as_a_file_name_is_not_written_through() {
    let (app, dir) = upload_app(&[]).await;
    let target = app.dir.path().join("authorized_keys");
    std::fs::write(&target, "the real keys").unwrap();
    let missing = app.dir.path().join("crontab");
    std::fs::create_dir(dir.join("4242")).unwrap();
    std::os::unix::fs::symlink(&target, dir.join("4242/report.pdf")).unwrap();
    std::os::unix::fs::symlink(&missing, dir.join("4242/notes.txt")).unwrap();

    let first = send_document(&app, 1, OWNER, "report.pdf", b"attacker's key").await;
    let second = send_document(&app, 2, OWNER, "notes.txt", b"* * * * * evil").await;

    assert!(first.starts_with("Stored as 4242/report-1.pdf "), "{first}");
    assert!(
        second.starts_with("Stored as 4242/notes-1.txt "),
        "{second}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "the real keys");
    assert!(!missing.exists(), "a dangling symlink's target was created");
    assert_eq!(
        std::fs::read_to_string(dir.join("4242/report-1.pdf")).unwrap(),
        "attacker's key"
    );
    // The planted links are still links.
    let link = std::fs::symlink_metadata(dir.join("4242/report.pdf")).unwrap();
    assert!(link.file_type().is_symlink());
}
