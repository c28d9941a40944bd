//! `telegate audit verify` on the database a real server wrote.

use std::process::Command;

use crate::support::{OWNER, TestApp, updates::private_text};

fn verify(app: &TestApp) -> (bool, String) {
    verify_with(app, &[])
}

/// `telegate audit verify EXTRA`; (success, stdout and stderr).
fn verify_with(app: &TestApp, extra: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_telegate"))
        .args(["audit", "verify"])
        .args(extra)
        .env_clear()
        .current_dir(app.dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite:{}", app.db_path().display()),
        )
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

async fn served_log() -> TestApp {
    let mut app = TestApp::spawn().await;
    for id in 1..=4 {
        app.post_update(&private_text(id, OWNER, "/ping")).await;
    }
    app.wait_texts_to(OWNER, 4).await;
    app.wait_handled(4).await;
    app.stop().await;
    app
}

async fn tamper(app: &TestApp, sql: &'static str) {
    let db = telegate::store::open(&app.db_path()).await.unwrap();
    sqlx::query(sql).execute(&db).await.unwrap();
    db.close().await;
}

#[tokio::test]
async fn audit_verify_passes_on_a_clean_log() {
    let app = served_log().await;
    let (ok, text) = verify(&app);
    assert!(ok, "{text}");
    assert!(text.contains("audit trail intact: 5 row(s)"), "{text}");
}

#[tokio::test]
async fn audit_verify_names_a_row_changed_by_a_direct_update() {
    let app = served_log().await;
    tamper(&app, "UPDATE audit SET decision = 'refused' WHERE id = 2").await;
    let (ok, text) = verify(&app);
    assert!(!ok);
    assert!(
        text.contains("row 2 was edited after it was written"),
        "{text}"
    );
}

#[tokio::test]
async fn audit_verify_names_the_place_of_a_deleted_row() {
    let app = served_log().await;
    tamper(&app, "DELETE FROM audit WHERE id = 3").await;
    let (ok, text) = verify(&app);
    assert!(!ok);
    assert!(
        text.contains("row 4: a row between 2 and 4 was deleted"),
        "{text}"
    );
}

#[tokio::test]
async fn audit_verify_with_a_noted_head_fails_once_the_newest_rows_are_deleted() {
    let app = served_log().await;
    let (ok, text) = verify(&app);
    assert!(ok, "{text}");
    let head = text
        .lines()
        .find_map(|l| l.strip_prefix("head: "))
        .expect("verify prints the head")
        .to_owned();
    let (id, hash) = head.split_once(':').unwrap();
    assert_eq!((id, hash.len()), ("5", 64), "{head}");
    let (ok, text) = verify_with(&app, &["--head", &head]);
    assert!(
        ok && text.contains(&format!("it reaches the head {head}")),
        "{text}"
    );

    tamper(&app, "DELETE FROM audit WHERE id >= 4").await;
    let (ok, text) = verify(&app);
    assert!(ok, "the chain alone cannot tell: {text}");
    let (ok, text) = verify_with(&app, &["--head", &head]);
    assert!(!ok);
    assert!(
        text.contains(&format!(
            "the audit trail no longer reaches the head {head}: row 5 is missing"
        )),
        "{text}"
    );
    let (ok, text) = verify_with(&app, &["--head", "5:not-a-hash"]);
    assert!(
        !ok && text.contains("is not a head: expected ID:HASH"),
        "{text}"
    );
}

#[tokio::test]
async fn audit_verify_says_when_there_is_no_database() {
    let app = TestApp::prepare(&[]).await;
    let (ok, text) = verify(&app);
    assert!(!ok);
    assert!(text.contains("there is no database at"), "{text}");
}

#[tokio::test]
async fn rows_older_than_the_retention_are_pruned_and_the_chain_still_verifies() {
    let mut app = served_log().await;
    let before: i64 = count_rows(&app).await;
    // 400 days later, with a retention of 365: every row so far is old.
    app.clock
        .advance(std::time::Duration::from_secs(400 * 86_400));
    app.vars
        .insert("AUDIT_RETENTION_DAYS".to_owned(), "365".to_owned());
    app.start().await;
    let pruned = crate::support::eventually(|| async {
        let outcomes: Vec<String> = sqlx::query_scalar("SELECT outcome FROM audit")
            .fetch_all(app.db())
            .await
            .unwrap();
        outcomes.into_iter().find(|o| o.starts_with("pruned "))
    })
    .await
    .expect("housekeeping prunes at startup");
    // Every earlier row, and the startup row of this start.
    assert_eq!(
        pruned,
        format!("pruned {} row(s) older than 365 day(s)", before + 1)
    );
    app.post_update(&private_text(10, OWNER, "/ping")).await;
    // The reply, not the inbox row: rows carry the system's time while this
    // clock is 400 days ahead, so housekeeping may prune the handled row at once.
    app.wait_texts_to(OWNER, 5).await;
    app.stop().await;
    let (ok, text) = verify(&app);
    assert!(ok, "{text}");
    assert!(text.contains("starting after pruned row"), "{text}");
}

async fn count_rows(app: &TestApp) -> i64 {
    let db = telegate::store::open(&app.db_path()).await.unwrap();
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    n
}
