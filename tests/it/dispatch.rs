//! Updates through the worker and dispatcher to the stand-in.

use telegate::bot::refusal;

use crate::support::{
    OWNER, TestApp,
    updates::{bot_added_to_group, group_text, private_text},
};

const STRANGER: i64 = 777;
const GROUP: i64 = -1001234567890;

#[tokio::test]
async fn ping_from_the_owner_is_answered_with_pong() {
    let app = TestApp::spawn().await;
    let response = app.post_update(&private_text(1, OWNER, "/ping")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.wait_texts_to(OWNER, 1).await, ["pong"]);
}

#[tokio::test]
async fn the_same_update_delivered_twice_is_handled_once() {
    let app = TestApp::spawn().await;
    let update = private_text(1, OWNER, "/ping");
    assert_eq!(app.post_update(&update).await.status(), 200);
    assert_eq!(app.post_update(&update).await.status(), 200);
    // A later update of the same chat is handled after any redelivery would be.
    app.post_update(&private_text(2, OWNER, "/whoami")).await;
    let texts = app.wait_texts_to(OWNER, 2).await;
    assert_eq!(texts[0], "pong");
    assert!(texts[1].contains(&OWNER.to_string()), "{texts:?}");
    app.wait_handled(2).await;
    assert_eq!(
        app.texts_to(OWNER).len(),
        2,
        "one pong only: {:?}",
        app.texts_to(OWNER)
    );
}

#[tokio::test]
async fn a_stranger_gets_only_the_short_refusal() {
    let app = TestApp::spawn().await;
    app.post_update(&private_text(1, STRANGER, "/status")).await;
    assert_eq!(app.wait_texts_to(STRANGER, 1).await, [refusal(STRANGER)]);
    app.wait_handled(1).await;
    assert_eq!(
        app.standin.successful("sendMessage").len(),
        1,
        "nothing else is sent"
    );
    let audit = telegate::store::audit::for_update(app.db(), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].decision, "refused");
}

#[tokio::test]
async fn each_command_answers_an_allowed_user() {
    let app = TestApp::spawn_with(&[("ALLOWED_CHAT_IDS", &STRANGER.to_string())]).await;
    for (i, command) in ["/start", "/help", "/status", "/whoami", "/nosuch", "hello"]
        .iter()
        .enumerate()
    {
        app.post_update(&private_text(i as i64 + 1, STRANGER, command))
            .await;
    }
    let texts = app.wait_texts_to(STRANGER, 6).await;
    assert!(texts[0].contains("@telegate_test_bot"), "{}", texts[0]);
    assert!(
        ["/start", "/help", "/ping", "/status", "/whoami"]
            .iter()
            .all(|c| texts[1].contains(c)),
        "{}",
        texts[1]
    );
    assert!(
        texts[2].contains("Updates waiting") && texts[2].contains(env!("CARGO_PKG_VERSION")),
        "{}",
        texts[2]
    );
    assert_eq!(
        texts[3],
        format!("Your user id: {STRANGER}\nThis chat's id: {STRANGER}")
    );
    assert!(
        texts[4].contains("There is no /nosuch command"),
        "{}",
        texts[4]
    );
    assert!(texts[5].contains("/help"), "{}", texts[5]);
}

#[tokio::test]
async fn commands_addressed_to_another_bot_are_ignored() {
    let app = TestApp::spawn().await;
    app.post_update(&private_text(1, OWNER, "/ping@some_other_bot"))
        .await;
    app.post_update(&private_text(2, OWNER, "/ping@telegate_test_bot"))
        .await;
    assert_eq!(app.wait_texts_to(OWNER, 1).await, ["pong"]);
    app.wait_handled(2).await;
    assert_eq!(app.texts_to(OWNER), ["pong"]);
}

#[tokio::test]
async fn an_allowed_group_is_served_and_a_group_that_is_not_is_left() {
    let app = TestApp::spawn_with(&[("ALLOWED_CHAT_IDS", &GROUP.to_string())]).await;
    app.post_update(&group_text(1, GROUP, STRANGER, "/ping@telegate_test_bot"))
        .await;
    assert_eq!(app.wait_texts_to(GROUP, 1).await, ["pong"]);

    let elsewhere = -1009999;
    app.post_update(&bot_added_to_group(2, elsewhere, STRANGER))
        .await;
    app.post_update(&group_text(3, -1008888, OWNER, "/ping"))
        .await;
    let left = app
        .standin
        .wait_for(crate::support::DEADLINE, |_| {
            let chats: Vec<i64> = app
                .standin
                .successful("leaveChat")
                .iter()
                .filter_map(|p| p["chat_id"].as_i64())
                .collect();
            (chats.len() >= 2).then_some(chats)
        })
        .await
        .expect("the bot leaves both chats");
    // Chats are sent to in parallel: no order between them.
    let mut left = left;
    left.sort_unstable();
    assert_eq!(left, [elsewhere, -1008888]);
    assert!(
        app.texts_to(elsewhere).is_empty() && app.texts_to(-1008888).is_empty(),
        "no reply in a chat it leaves"
    );
}

#[tokio::test]
async fn the_audit_row_names_the_command_but_never_its_arguments_or_text() {
    let app = TestApp::spawn().await;
    app.post_update(&private_text(1, OWNER, "/ping secret-argument-text"))
        .await;
    app.post_update(&private_text(2, OWNER, "a private message text"))
        .await;
    app.wait_handled(2).await;
    let rows = telegate::store::audit::for_update(app.db(), 1)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (
            row.kind.as_str(),
            row.command.as_deref(),
            row.decision.as_str()
        ),
        ("message", Some("ping"), "allowed")
    );
    assert_eq!((row.chat_id, row.user_id), (Some(OWNER), Some(OWNER)));
    let payloads: Vec<Option<String>> = sqlx::query_scalar("SELECT payload FROM inbox")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert!(
        payloads.iter().all(Option::is_none),
        "payloads are dropped once handled"
    );
    let audit_text: Vec<String> = sqlx::query_scalar(
        "SELECT kind || ' ' || IFNULL(command, '') || ' ' || decision || ' ' || outcome FROM audit",
    )
    .fetch_all(app.db())
    .await
    .unwrap();
    for needle in ["secret-argument-text", "a private message text"] {
        assert!(
            !audit_text.iter().any(|row| row.contains(needle)),
            "{needle:?} in {audit_text:?}"
        );
    }
}

#[tokio::test]
async fn one_chats_replies_arrive_in_the_order_of_its_updates() {
    let app = TestApp::spawn().await;
    let commands = [
        "/ping", "/whoami", "/help", "/ping", "/start", "/whoami", "/ping", "/help",
    ];
    for (i, command) in commands.iter().enumerate() {
        app.post_update(&private_text(i as i64 + 1, OWNER, command))
            .await;
    }
    let texts = app.wait_texts_to(OWNER, commands.len()).await;
    let kinds: Vec<&str> = texts
        .iter()
        .map(|t| match t {
            t if t == "pong" => "/ping",
            t if t.starts_with("Your user id") => "/whoami",
            t if t.starts_with("Commands you may use") => "/help",
            t if t.starts_with("Hello!") => "/start",
            _ => "?",
        })
        .collect();
    assert_eq!(kinds, commands);
}

#[tokio::test]
async fn a_chat_whose_replies_keep_failing_does_not_hold_up_other_chats() {
    let app = TestApp::spawn_with(&[("ALLOWED_CHAT_IDS", &STRANGER.to_string())]).await;
    app.standin
        .fail_chat(OWNER, telegate::standin::Fault::internal_error());
    app.post_update(&private_text(1, OWNER, "/ping")).await;
    app.post_update(&private_text(2, OWNER, "/whoami")).await;
    app.post_update(&private_text(3, STRANGER, "/ping")).await;
    assert_eq!(app.wait_texts_to(STRANGER, 1).await, ["pong"]);
    assert!(app.texts_to(OWNER).is_empty());
    app.standin.heal();
    let texts = app.wait_texts_to(OWNER, 2).await;
    assert_eq!(
        texts[0], "pong",
        "the failed reply goes out first once the chat recovers"
    );
}
