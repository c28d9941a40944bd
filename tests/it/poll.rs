//! `telegate poll`: updates fetched from the stand-in's getUpdates go
//! through the same inbox, handlers and outbox as a webhook's.

use serde_json::json;
use telegate::{config::Secret, telegram::BotClient};

use crate::support::{OWNER, TOKEN, TestApp, eventually, updates::private_text};

/// Calls the stand-in as another program with the bot's token would.
async fn call(app: &TestApp, method: &str, params: serde_json::Value) {
    BotClient::new(&app.standin.url(), &Secret::new(TOKEN))
        .unwrap()
        .call(method, &params)
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}"));
}

/// Sets a webhook on the stand-in the way an earlier `telegate serve` did.
async fn set_old_webhook(app: &TestApp) {
    let url = "https://old.example.org/telegram/webhook";
    call(app, "setWebhook", json!({ "url": url })).await;
}

fn methods(app: &TestApp) -> Vec<String> {
    app.standin.calls().into_iter().map(|c| c.method).collect()
}

#[tokio::test]
async fn poll_deletes_the_webhook_first_then_answers_updates_it_fetched() {
    let mut app = TestApp::prepare(&[]).await;
    set_old_webhook(&app).await;
    app.standin.push_update(private_text(1, OWNER, "/ping"));

    app.start_polling().await;

    let texts = app.wait_texts_to(OWNER, 1).await;
    assert!(texts[0].starts_with("pong"), "{texts:?}");
    assert_eq!(app.standin.webhook(), serde_json::Value::Null);
    // The test's own setWebhook came first; then telegate's calls.
    let calls = methods(&app);
    let ours = &calls[calls.iter().position(|c| c == "getMe").unwrap()..];
    let firsts: Vec<&str> = ours
        .iter()
        .filter(|c| *c != "setMyCommands")
        .take(4)
        .map(String::as_str)
        .collect();
    assert_eq!(
        firsts,
        ["getMe", "getWebhookInfo", "deleteWebhook", "getUpdates"]
    );
    assert!(!ours.iter().any(|c| c == "setWebhook"), "{calls:?}");
    let delete = app
        .standin
        .calls()
        .into_iter()
        .find(|c| c.method == "deleteWebhook")
        .unwrap();
    assert_eq!(
        delete.params["drop_pending_updates"], false,
        "pending updates are kept for getUpdates"
    );
    let metrics = app.metrics().await;
    for line in [
        "telegate_bot_api_calls_total{method=\"deleteWebhook\",result=\"ok\"} 1",
        "telegate_bot_api_calls_total{method=\"getUpdates\",result=\"ok\"}",
        "telegate_updates_total{kind=\"message\",decision=\"allowed\"} 1",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in:\n{metrics}");
    }
    app.stop().await;
}

#[tokio::test]
async fn fetched_updates_are_confirmed_and_none_is_handled_twice_across_a_restart() {
    let mut app = TestApp::prepare(&[]).await;
    for id in 1..=3 {
        app.standin
            .push_update(private_text(id, OWNER, &format!("/ping {id}")));
    }
    app.start_polling().await;
    app.wait_texts_to(OWNER, 3).await;
    // The next getUpdates carries an offset past the three: Telegram forgets them.
    eventually(|| async { (app.standin.held_updates() == 0).then_some(()) })
        .await
        .expect("the fetched updates are confirmed");
    app.stop().await;

    // One fetched-and-stored but unconfirmed update is handed out again.
    app.standin.push_update(private_text(3, OWNER, "/ping 3"));
    app.standin.push_update(private_text(4, OWNER, "/ping 4"));
    app.start_polling().await;
    app.wait_texts_to(OWNER, 4).await;
    app.wait_handled(4).await;
    eventually(|| async { (app.standin.held_updates() == 0).then_some(()) })
        .await
        .expect("the updates are confirmed");
    assert_eq!(app.texts_to(OWNER).len(), 4, "{:?}", app.texts_to(OWNER));
    app.stop().await;
}

#[tokio::test]
async fn poll_is_refused_while_another_server_holds_the_database() {
    let app = TestApp::spawn().await;
    let config =
        telegate::config::Config::from_lookup_for(telegate::config::Intake::Polling, |k| {
            app.vars.get(k).cloned()
        })
        .unwrap();

    let refused = telegate::app::start(config).await.err().expect("refused");

    assert!(
        refused.to_string().contains("another telegate is sending"),
        "{refused:#}"
    );
    assert!(!methods(&app).iter().any(|m| m == "deleteWebhook"));
}

#[tokio::test]
async fn a_webhook_set_while_polling_is_reported_and_polling_resumes_once_it_is_gone() {
    let mut app = TestApp::prepare(&[]).await;
    app.start_polling().await;
    app.standin
        .wait_for(crate::support::DEADLINE, |calls| {
            calls
                .iter()
                .any(|c| c.method == "setMyCommands")
                .then_some(())
        })
        .await
        .expect("registered");

    set_old_webhook(&app).await;
    app.standin.push_update(private_text(7, OWNER, "/ping"));
    let conflict = app
        .standin
        .wait_for(crate::support::DEADLINE, |calls| {
            calls
                .iter()
                .any(|c| c.method == "getUpdates" && c.status == 409)
                .then_some(())
        })
        .await;
    assert!(conflict.is_some(), "getUpdates never met the webhook");
    assert!(app.texts_to(OWNER).is_empty());

    call(&app, "deleteWebhook", json!({})).await;
    let texts = app.wait_texts_to(OWNER, 1).await;
    assert!(texts[0].starts_with("pong"), "{texts:?}");
    app.stop().await;
}
