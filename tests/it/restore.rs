//! `telegate restore`: a backup put back in place of the database, checked
//! first, with the database it replaces kept.

use crate::{
    cli::run,
    support::{OWNER, TestApp},
};

/// A server that handled update 1, and a backup taken then.
async fn backed_up() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.say(1, OWNER, "/ping").await;
    app.wait_handled(1).await;
    let copy = app.dir.path().join("backup.db").display().to_string();
    let (ok, _, err) = run(&app, &["backup", &copy]);
    assert!(ok, "{err}");
    (app, copy)
}

fn set_aside_copies(app: &TestApp) -> Vec<String> {
    std::fs::read_dir(app.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("telegate.db.before-restore-"))
        .collect()
}

#[tokio::test]
async fn restore_puts_the_backup_back_and_keeps_the_database_it_replaced() {
    let (mut app, copy) = backed_up().await;
    app.say(2, OWNER, "/ping").await;
    app.wait_handled(2).await;

    let (ok, _, err) = run(&app, &["restore", &copy]);
    assert!(
        !ok && err.contains("restore needs telegate serve stopped"),
        "{err}"
    );

    app.stop().await;
    let (ok, out, err) = run(&app, &["restore", &copy]);
    assert!(ok, "{err}");
    assert!(out.contains("audit trail intact"), "{out}");
    let aside = set_aside_copies(&app);
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(out.contains(&aside[0]), "{out}");

    app.start().await;
    assert_eq!(app.inbox_status(1).await.as_deref(), Some("done"));
    assert_eq!(
        app.inbox_status(2).await,
        None,
        "update 2 came after the backup"
    );
    let before = telegate::store::open(&app.dir.path().join(&aside[0]))
        .await
        .unwrap();
    let kept: Option<String> = sqlx::query_scalar("SELECT status FROM inbox WHERE update_id = 2")
        .fetch_optional(&before)
        .await
        .unwrap();
    before.close().await;
    assert_eq!(
        kept.as_deref(),
        Some("done"),
        "the replaced database is whole"
    );
}

#[tokio::test]
async fn restore_refuses_a_tampered_backup_or_another_file_and_changes_nothing() {
    let (mut app, copy) = backed_up().await;
    app.stop().await;
    let tampered = telegate::store::open(std::path::Path::new(&copy))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE audit SET outcome = 'nothing happened' WHERE id = (SELECT MIN(id) FROM audit)",
    )
    .execute(&tampered)
    .await
    .unwrap();
    tampered.close().await;
    let not_a_database = app.dir.path().join("notes.txt");
    std::fs::write(&not_a_database, "not a database\n").unwrap();

    let (ok, _, err) = run(&app, &["restore", &copy]);
    assert!(
        !ok && err.contains("audit trail has been tampered with"),
        "{err}"
    );
    let (ok, _, err) = run(&app, &["restore", &not_a_database.display().to_string()]);
    assert!(
        !ok && err.contains("is not a usable telegate backup"),
        "{err}"
    );
    let (ok, _, err) = run(&app, &["restore", "/nonexistent/backup.db"]);
    assert!(!ok && err.contains("there is no backup at"), "{err}");

    assert!(set_aside_copies(&app).is_empty());
    app.start().await;
    assert_eq!(app.inbox_status(1).await.as_deref(), Some("done"));
}
