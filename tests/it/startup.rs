//! Registration with the Bot API at start-up.

use telegate::standin::Fault;

use crate::{
    health::JsonValue,
    support::{DEADLINE, OWNER, SECRET, TestApp, WEBHOOK_PATH, eventually},
};

#[tokio::test]
async fn startup_sets_the_webhook_with_url_and_secret_and_the_commands() {
    let app = TestApp::spawn().await;
    let menus = app
        .standin
        .wait_for(DEADLINE, |_| {
            let calls = app.standin.successful("setMyCommands");
            (calls.len() == 2).then_some(calls)
        })
        .await
        .expect("setMyCommands is called for everyone and for the owner");
    let hook = app.standin.webhook();
    assert_eq!(hook["url"], "https://bot.telegate.test/telegram/webhook");
    assert_eq!(hook["secret_token"], SECRET);
    assert_eq!(
        hook["allowed_updates"],
        serde_json::json!(["message", "my_chat_member", "callback_query"])
    );
    assert_eq!(hook["max_connections"], 40);
    let names = crate::support::menu_names;
    let ordinary = [
        "start", "help", "ping", "status", "whoami", "auth", "logout",
    ];
    assert_eq!(names(&menus[0]), ordinary);
    assert!(menus[0]["scope"].is_null(), "the default menu");
    let owner_tools = ["users", "allow", "revoke", "audit", "lockouts", "unlock"];
    assert_eq!(names(&menus[1]), [&ordinary[..], &owner_tools[..]].concat());
    assert_eq!(
        menus[1]["scope"],
        serde_json::json!({"type": "chat", "chat_id": crate::support::OWNER})
    );
    let order: Vec<String> = app
        .standin
        .calls()
        .iter()
        .map(|c| c.method.clone())
        .take(4)
        .collect();
    assert_eq!(
        order,
        ["getMe", "getWebhookInfo", "setWebhook", "setMyCommands"]
    );
}

#[tokio::test]
async fn an_unreachable_bot_api_is_retried_in_the_background_and_health_says_so() {
    let mut app = TestApp::prepare(&[]).await;
    app.standin.fail_always("getMe", Fault::HtmlBadGateway);
    app.start().await;
    let health = eventually(|| async {
        let body = app.get("/health").await.json_value().await;
        body["webhook"]["last_error"].is_string().then_some(body)
    })
    .await
    .expect("health reports the registration error");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["webhook"]["registered"], false);
    assert!(
        health["webhook"]["last_error"]
            .as_str()
            .unwrap()
            .contains("getMe"),
        "{health}"
    );

    app.standin.heal();
    let registered = eventually(|| async {
        let body = app.get("/health").await.json_value().await;
        (body["webhook"]["registered"] == true).then_some(body)
    })
    .await
    .expect("registration succeeds once the Bot API answers");
    assert_eq!(registered["status"], "ok");
}

#[tokio::test]
async fn a_new_token_and_a_restart_re_register_the_webhook_and_send_what_was_queued() {
    const NEW_TOKEN: &str = "123456789:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsawNEW";
    let mut app = TestApp::spawn().await;
    app.standin
        .wait_for(DEADLINE, |calls| {
            calls
                .iter()
                .any(|c| c.method == "setWebhook" && c.status == 200)
                .then_some(())
        })
        .await
        .expect("registered with the first token");

    // BotFather's /revoke: the old token is refused from now on.
    app.standin.rotate_token(NEW_TOKEN);
    app.post_update(&crate::support::updates::private_text(1, OWNER, "/ping"))
        .await;
    app.standin
        .wait_for(DEADLINE, |calls| {
            calls
                .iter()
                .any(|c| c.method == "sendMessage" && c.status == 401)
                .then_some(())
        })
        .await
        .expect("the reply is refused with the old token");
    assert!(app.texts_to(OWNER).is_empty());

    app.stop().await;
    app.vars
        .insert("TELEGRAM_BOT_TOKEN".into(), NEW_TOKEN.into());
    app.start().await;

    let texts = app.wait_texts_to(OWNER, 1).await;
    assert!(texts[0].starts_with("pong"), "{texts:?}");
    app.standin
        .wait_for(DEADLINE, |_| {
            (app.standin.successful("setWebhook").len() == 2).then_some(())
        })
        .await
        .expect("registered again, with the new token");
    let hook = app.standin.webhook();
    assert_eq!(
        hook["url"],
        format!("https://bot.telegate.test{WEBHOOK_PATH}")
    );
    assert_eq!(hook["secret_token"], SECRET);
}
