//! Inbound flood protection: a user over INBOUND_LIMIT_PER_MIN is dropped
//! with one notice, audited (the drops as one row a minute), and holds up
//! nobody else.

use std::time::Duration;

use telegate::store::{
    self,
    inbox::{self, NewUpdate},
};

use crate::support::{OWNER, TestApp, updates::private_text};

const OTHER: i64 = 6006;

#[tokio::test]
async fn a_flooding_user_gets_one_notice_and_the_excess_is_dropped_and_counted_in_the_audit_trail()
{
    let app = TestApp::spawn_with(&[
        ("INBOUND_LIMIT_PER_MIN", "5"),
        ("ALLOWED_CHAT_IDS", &OTHER.to_string()),
    ])
    .await;
    for id in 1..=12 {
        app.post_update(&private_text(id, OWNER, "/ping")).await;
    }
    app.post_update(&private_text(13, OTHER, "/ping")).await;
    assert_eq!(
        app.wait_texts_to(OTHER, 1).await,
        ["pong"],
        "others are served"
    );
    app.wait_handled(12).await;

    let texts = app.wait_texts_to(OWNER, 6).await;
    assert_eq!(texts.len(), 6, "five pongs and one notice: {texts:?}");
    assert_eq!(texts.iter().filter(|t| *t == "pong").count(), 5);
    assert!(
        texts[5].starts_with("You are sending too much"),
        "{texts:?}"
    );
    let outcomes = app.audit_outcomes(OWNER).await;
    let noticed = outcomes
        .iter()
        .filter(|o| *o == "dropped: over 5 updates a minute")
        .count();
    assert_eq!(noticed, 1, "the drop that was answered: {outcomes:?}");
    // The other six are counted, and the next round of housekeeping (each
    // minute) writes them as one row, though the flood is over.
    app.housekeeping_now().await;
    let summary = app.audit_outcomes_of_kind("flood").await;
    // One row, unless the timer's round came in the middle of the flood.
    assert!(!summary.is_empty(), "the drops are in the audit trail");
    assert!(
        summary[0].starts_with("dropped ")
            && summary[0].contains(" over 5 a minute: update ids 7 to "),
        "{summary:?}"
    );
    let counted: i64 = summary
        .iter()
        .map(|o| {
            o["dropped ".len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    assert_eq!(counted, 6, "{summary:?}");
    app.housekeeping_now().await;
    assert_eq!(
        app.audit_outcomes_of_kind("flood").await,
        summary,
        "written once"
    );

    app.clock.advance(Duration::from_secs(61));
    assert_eq!(app.say(14, OWNER, "/ping").await, "pong", "a minute later");
}

#[tokio::test]
async fn the_inbox_scan_reaches_a_quiet_chat_behind_a_flooding_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = store::open(&dir.path().join("telegate.db")).await.unwrap();
    let update = |id: i64, chat: i64| NewUpdate {
        update_id: id,
        kind: "message".to_owned(),
        chat_key: Some(chat),
        payload: "{}".to_owned(),
    };
    let flood: Vec<NewUpdate> = (1..=2000).map(|id| update(id, OWNER)).collect();
    let quiet = update(2001, OTHER);
    let batch: Vec<&NewUpdate> = flood.iter().chain([&quiet]).collect();
    inbox::insert_batch(&db, &batch).await.unwrap();

    let scan = inbox::Scan {
        window: 4096,
        per_chat: 64,
        limit: 512,
    };
    let scan = inbox::pending(&db, scan, &Default::default())
        .await
        .unwrap();
    let from_flood = scan.iter().filter(|u| u.chat_key == Some(OWNER)).count();
    assert_eq!(from_flood, 64, "a bounded share of the flooding chat");
    assert!(
        scan.iter().any(|u| u.update_id == 2001),
        "the quiet chat's update is in the same scan"
    );
    let ids: Vec<i64> = scan.iter().map(|u| u.update_id).collect();
    assert!(ids.is_sorted(), "in update_id order");
}
