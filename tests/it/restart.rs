//! Durability across restarts, and updates that cannot be handled.

use telegate::{
    standin::Fault,
    store::inbox::{self, NewUpdate},
    worker::MAX_ATTEMPTS,
};

use crate::{
    health::JsonValue,
    support::{OWNER, TestApp, updates::private_text},
};

#[tokio::test]
async fn updates_pending_at_a_restart_are_handled_after_it() {
    let mut app = TestApp::prepare(&[]).await;
    // While the Bot API is down, updates are stored but cannot be worked on.
    app.standin.fail_always("getMe", Fault::internal_error());
    app.start().await;
    assert_eq!(
        app.post_update(&private_text(1, OWNER, "/ping"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_update(&private_text(2, OWNER, "/whoami"))
            .await
            .status(),
        200
    );
    let health = app.get("/health").await.json_value().await;
    assert_eq!(health["pending_updates"], 2);
    assert_eq!(health["webhook"]["registered"], false);
    assert_eq!(health["status"], "degraded");
    app.stop().await;

    app.standin.heal();
    app.start().await;
    let texts = app.wait_texts_to(OWNER, 2).await;
    assert_eq!(texts[0], "pong");
    assert!(texts[1].starts_with("Your user id"));
}

#[tokio::test]
async fn an_update_that_keeps_failing_is_marked_failed_and_does_not_block_its_chat() {
    let mut app = TestApp::prepare(&[]).await;
    app.start().await;
    // An update that already cost MAX_ATTEMPTS tries (say the process died
    // each time while handling it), followed by an ordinary one.
    let stored = |id, text| NewUpdate {
        update_id: id,
        kind: "message".into(),
        chat_key: Some(OWNER),
        payload: private_text(id, OWNER, text).to_string(),
    };
    app.stop().await;
    let db = telegate::store::open(&app.db_path()).await.unwrap();
    inbox::insert_batch(&db, &[&stored(1, "/ping"), &stored(2, "/whoami")])
        .await
        .unwrap();
    sqlx::query("UPDATE inbox SET attempts = ? WHERE update_id = 1")
        .bind(MAX_ATTEMPTS)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;

    app.start().await;
    assert_eq!(app.wait_handled(1).await, "failed");
    let texts = app.wait_texts_to(OWNER, 1).await;
    assert!(
        texts[0].starts_with("Your user id"),
        "the next update is still handled: {texts:?}"
    );
    let audit = telegate::store::audit::for_update(app.db(), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].outcome, "failed");
    // Its payload (which may have held a secret) is gone; what it was stays.
    let (kind, chat, payload, error): (String, Option<i64>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT kind, chat_key, payload, last_error FROM inbox WHERE update_id = 1")
            .fetch_one(app.db())
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), chat, payload),
        ("message", Some(OWNER), None)
    );
    assert!(error.is_some_and(|e| !e.is_empty()));
}

#[tokio::test]
async fn replies_survive_bot_api_errors_and_arrive_once() {
    let app = TestApp::spawn().await;
    app.standin
        .fail_next("sendMessage", Fault::too_many_requests(1));
    app.standin.fail_next("sendMessage", Fault::HtmlBadGateway);
    app.standin.fail_next("sendMessage", Fault::Drop);
    app.post_update(&private_text(1, OWNER, "/ping")).await;
    assert_eq!(app.wait_texts_to(OWNER, 1).await, ["pong"]);
    let attempts = app
        .standin
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage")
        .count();
    assert_eq!(
        attempts,
        4,
        "three failures, then one success: {:?}",
        app.standin.calls()
    );
}

#[tokio::test]
async fn each_handled_update_counts_exactly_one_attempt() {
    let mut app = TestApp::prepare(&[]).await;
    // Stored while the worker waits for getMe, so they form one lane.
    app.standin.fail_next("getMe", Fault::internal_error());
    app.start().await;
    for id in 1..=4 {
        app.post_update(&private_text(id, OWNER, "/ping")).await;
    }
    app.wait_texts_to(OWNER, 4).await;
    app.wait_handled(4).await;
    let attempts: Vec<i64> = sqlx::query_scalar("SELECT attempts FROM inbox ORDER BY update_id")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(attempts, [1, 1, 1, 1]);
}
