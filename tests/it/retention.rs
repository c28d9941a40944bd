//! Bounded growth: housekeeping prunes what is kept no longer, and a flood
//! of strangers leaves a bounded database behind.

mod flood;

use std::time::Duration;

use telegate::standin::Fault;

use crate::support::{OWNER, TestApp, eventually, updates::private_text};

const DAY: Duration = Duration::from_secs(86_400);

/// Rows in `table`.
pub async fn rows(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(app.db())
        .await
        .expect("table readable")
}

/// The status of each outbox row caused by `update_id`.
async fn outbox_statuses(app: &TestApp, update_id: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT status FROM outbox WHERE update_id = ? ORDER BY id")
        .bind(update_id)
        .fetch_all(app.db())
        .await
        .expect("outbox readable")
}

async fn wait_outbox(app: &TestApp, update_id: i64, status: &str) {
    eventually(|| async { (outbox_statuses(app, update_id).await == [status]).then_some(()) })
        .await
        .unwrap_or_else(|| panic!("the reply to {update_id} did not become {status}"));
}

#[tokio::test]
async fn handled_updates_and_sent_replies_go_after_retention_days_and_dead_letters_after_twice_that()
 {
    let app = TestApp::spawn_with(&[("RETENTION_DAYS", "7")]).await;
    app.standin.fail_next(
        "sendMessage",
        Fault::Error {
            code: 403,
            description: "Forbidden: bot was blocked by the user".into(),
            retry_after: None,
        },
    );
    app.post_update(&private_text(1, OWNER, "/ping")).await;
    wait_outbox(&app, 1, "dead").await;
    assert_eq!(app.say(2, OWNER, "/ping").await, "pong");
    wait_outbox(&app, 2, "sent").await;
    // A call that is not due for a year, queued long ago: pending, so kept.
    let next_year = app.clock.now_ms() + 365 * 86_400_000;
    sqlx::query(
        "INSERT INTO outbox (chat_id, method, params, next_attempt_at, created_at)
         VALUES (?, 'sendMessage', '{}', ?, 0)",
    )
    .bind(OWNER)
    .bind(next_year)
    .execute(app.db())
    .await
    .unwrap();

    app.clock.advance(6 * DAY);
    app.housekeeping_now().await;
    assert_eq!(rows(&app, "inbox").await, 2, "kept for 7 days");
    assert_eq!(rows(&app, "outbox").await, 3);

    app.clock.advance(2 * DAY);
    app.housekeeping_now().await;
    assert_eq!(app.inbox_status(1).await, None);
    assert_eq!(app.inbox_status(2).await, None);
    assert_eq!(outbox_statuses(&app, 2).await, Vec::<String>::new());
    assert_eq!(outbox_statuses(&app, 1).await, ["dead"], "kept longer");
    assert_eq!(rows(&app, "outbox WHERE status = 'pending'").await, 1);

    app.clock.advance(7 * DAY);
    app.housekeeping_now().await;
    assert_eq!(outbox_statuses(&app, 1).await, Vec::<String>::new());
    assert_eq!(
        rows(&app, "outbox WHERE status = 'pending'").await,
        1,
        "pending calls are never pruned"
    );
    let metrics = app.metrics().await;
    for line in [
        "telegate_pruned_rows_total{table=\"inbox\"} 2",
        "telegate_pruned_rows_total{table=\"outbox\"} 2",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in:\n{metrics}");
    }
}

#[tokio::test]
async fn retention_days_zero_keeps_handled_updates_and_sent_replies() {
    let app = TestApp::spawn_with(&[("RETENTION_DAYS", "0")]).await;
    assert_eq!(app.say(1, OWNER, "/ping").await, "pong");
    wait_outbox(&app, 1, "sent").await;
    app.clock.advance(1000 * DAY);
    app.housekeeping_now().await;
    assert_eq!(app.inbox_status(1).await.as_deref(), Some("done"));
    assert_eq!(outbox_statuses(&app, 1).await, ["sent"]);
}

#[tokio::test]
async fn the_brute_force_guards_rows_go_once_they_no_longer_count() {
    const PASSCODE: &str = "correct-horse-42";
    let (locked, guessing) = (5005, 6006);
    let app = TestApp::spawn_with(&[
        ("ENROLLMENT_PASSCODE", PASSCODE),
        ("ENROLLMENT_MAX_WRONG_PER_HOUR", "6"),
    ])
    .await;
    app.post_update(&private_text(1, locked, "/start")).await;
    for id in 2..=6 {
        app.post_update(&private_text(id, locked, "wrong-guess"))
            .await;
    }
    // After the others: the sixth wrong passcode within the hour pauses enrolment.
    app.wait_handled(6).await;
    app.post_update(&private_text(7, guessing, "/start")).await;
    app.post_update(&private_text(8, guessing, "wrong-guess"))
        .await;
    app.wait_handled(8).await;
    let tables = [
        "enrolment_requests",
        "passcode_failures",
        "lockouts",
        "enrolment_wrong",
        "enrolment_pause",
    ];
    let counts = || async {
        let mut counts = Vec::new();
        for table in tables {
            counts.push(rows(&app, table).await);
        }
        counts
    };
    assert_eq!(counts().await, [2, 1, 1, 6, 1], "{tables:?}");

    // LOCKOUT_WINDOW is 15 minutes; the lockout and the pause last an hour.
    app.clock.advance(Duration::from_secs(16 * 60));
    app.housekeeping_now().await;
    assert_eq!(counts().await, [2, 0, 1, 6, 1], "{tables:?}");
    app.clock.advance(Duration::from_secs(45 * 60));
    app.housekeeping_now().await;
    assert_eq!(counts().await, [2, 0, 0, 0, 0], "{tables:?}");
    app.clock.advance(DAY);
    app.housekeeping_now().await;
    assert_eq!(counts().await, [0, 0, 0, 0, 0], "{tables:?}");
}
