//! The owner's tools in chat: /users, /allow, /revoke, /audit, /lockouts, /unlock.

use std::time::Duration;

use telegate::{auth::totp::TotpVerifier, bot::guard::LOCKED};

use serde_json::json;

use crate::support::{
    OWNER, TestApp,
    updates::{group_text, private_text},
};

const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const PASSCODE: &str = "correct-horse-42";
const CONFIGURED: i64 = 6006;
const USER: i64 = 5005;

async fn owner_with_session() -> TestApp {
    let app = TestApp::spawn_with(&[
        ("TOTP_SECRET", TOTP_SECRET),
        ("ENROLLMENT_PASSCODE", PASSCODE),
        ("ALLOWED_CHAT_IDS", &CONFIGURED.to_string()),
    ])
    .await;
    auth(&app, 1, OWNER).await;
    app
}

async fn auth(app: &TestApp, update_id: i64, user: i64) {
    // Each code works once: a later /auth needs the next 30-second step.
    app.clock.advance(Duration::from_secs(30));
    let unix = u64::try_from(app.clock.now_ms() / 1000).unwrap();
    let code = TotpVerifier::from_base32(TOTP_SECRET)
        .unwrap()
        .code_at(unix);
    let reply = app.say(update_id, user, &format!("/auth {code}")).await;
    assert!(reply.starts_with("Session open"), "{reply}");
}

#[tokio::test]
async fn owner_tools_are_refused_to_other_users_even_with_a_session() {
    let app = owner_with_session().await;
    auth(&app, 2, CONFIGURED).await;
    for (id, command) in [(3, "/users"), (4, "/allow 7"), (5, "/audit")] {
        let reply = app.say(id, CONFIGURED, command).await;
        assert!(reply.ends_with("is for the bot's owner only."), "{reply}");
    }
    let help = app.say(6, CONFIGURED, "/help").await;
    assert!(!help.contains("/allow"), "{help}");
    assert!(
        app.say(7, OWNER, "/help")
            .await
            .contains("/allow ID [owner]")
    );
}

#[tokio::test]
async fn owner_tools_answer_only_in_a_private_chat() {
    let group = -100_123;
    let app = TestApp::spawn_with(&[
        ("TOTP_SECRET", TOTP_SECRET),
        ("ALLOWED_CHAT_IDS", &group.to_string()),
    ])
    .await;
    auth(&app, 1, OWNER).await;
    app.post_update(&group_text(2, group, OWNER, "/users"))
        .await;
    let texts = app.wait_texts_to(group, 1).await;
    assert_eq!(
        texts[0],
        "Send /users in a private chat with me: its answer is not for a group."
    );
}

#[tokio::test]
async fn allow_lets_a_user_in_and_users_lists_who_and_how() {
    let app = owner_with_session().await;
    assert_eq!(
        app.say(2, USER, "/ping").await,
        telegate::bot::refusal(USER)
    );
    let allowed = app.say(3, OWNER, &format!("/allow {USER}")).await;
    assert_eq!(allowed, format!("{USER} may use the bot now, as a user."));
    assert_eq!(app.say(4, USER, "/ping").await, "pong");

    let users = app.say(5, OWNER, "/users").await;
    assert!(
        users.contains(&format!("In ALLOWED_CHAT_IDS: {CONFIGURED}")),
        "{users}"
    );
    assert!(
        users.contains(&format!("{USER} - user, via chat by {OWNER}, since ")),
        "{users}"
    );
    let usage = app.say(6, OWNER, "/allow someone").await;
    assert!(usage.starts_with("Usage: /allow ID"), "{usage}");
}

#[tokio::test]
async fn an_owner_can_promote_a_user_who_then_may_use_the_owner_tools() {
    let app = owner_with_session().await;
    app.say(2, OWNER, &format!("/allow {USER}")).await;
    let promoted = app.say(3, OWNER, &format!("/allow {USER} owner")).await;
    assert_eq!(promoted, format!("{USER} is an owner now (was a user)."));
    auth(&app, 4, USER).await;
    assert!(
        app.say(5, USER, "/users")
            .await
            .contains("- owner, via chat")
    );
    let audit = app.audit_outcomes(OWNER).await;
    assert!(
        audit.contains(&format!("role of user {USER} changed from user to owner")),
        "{audit:?}"
    );
}

#[tokio::test]
async fn revoke_explains_what_it_cannot_do() {
    let app = owner_with_session().await;
    let configured = app.say(2, OWNER, &format!("/revoke {CONFIGURED}")).await;
    assert!(
        configured.contains("is in ALLOWED_CHAT_IDS"),
        "{configured}"
    );
    let owner = app.say(3, OWNER, &format!("/revoke {OWNER}")).await;
    assert!(owner.contains("cannot be revoked"), "{owner}");
    let unknown = app.say(4, OWNER, "/revoke 777").await;
    assert_eq!(unknown, "777 was not enrolled or allowed.");
}

#[tokio::test]
async fn lockouts_are_listed_and_unlock_lifts_one() {
    let app = owner_with_session().await;
    let stranger = 9009;
    app.say(2, stranger, "/start").await;
    for id in 3..=7 {
        app.say(id, stranger, "a-wrong-guess").await;
    }
    assert_eq!(app.texts_to(stranger).last().unwrap(), LOCKED);
    let list = app.say(8, OWNER, "/lockouts").await;
    assert!(list.contains(&format!("\n{stranger} until ")), "{list}");
    let unlocked = app.say(9, OWNER, &format!("/unlock {stranger}")).await;
    assert_eq!(unlocked, format!("{stranger} is no longer locked out."));
    assert_eq!(
        app.say(10, OWNER, "/lockouts").await,
        "Nobody is locked out."
    );
    app.say(11, stranger, "/start").await;
    assert_eq!(
        app.say(12, stranger, PASSCODE).await,
        telegate::bot::enrol::WELCOME
    );
}

#[tokio::test]
async fn audit_shows_the_last_decisions_compactly() {
    let app = owner_with_session().await;
    app.say(2, OWNER, "/ping").await;
    let audit = app.say(3, OWNER, "/audit 2").await;
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines.len(), 3, "{audit}");
    assert_eq!(lines[0], "Last 2 decision(s), UTC:");
    // The /audit row itself is written after the reply.
    assert!(
        lines[1].ends_with("/auth: allowed (session opened (totp))"),
        "{audit}"
    );
    assert!(
        lines[2].ends_with(&format!("message user {OWNER} /ping: allowed (ok)")),
        "{audit}"
    );
    assert!(
        app.say(4, OWNER, "/audit 0")
            .await
            .starts_with("Usage: /audit")
    );
}

/// `update` with `fields` added to its message.
fn with(mut update: serde_json::Value, fields: serde_json::Value) -> serde_json::Value {
    for (k, v) in fields.as_object().unwrap() {
        update["message"][k] = v.clone();
    }
    update
}

#[tokio::test]
async fn commands_in_messages_the_owner_did_not_type_are_not_run() {
    let app = owner_with_session().await;
    let command = format!("/allow {USER} owner");
    let not_typed = [
        json!({"forward_origin": {"type": "user", "date": 1, "sender_user": {"id": 1, "is_bot": false, "first_name": "M"}}}),
        json!({"via_bot": {"id": 99, "is_bot": true, "first_name": "inline", "username": "some_inline_bot"}}),
    ];
    for (i, fields) in not_typed.into_iter().enumerate() {
        let update_id = 2 + i64::try_from(i).unwrap();
        app.post_update(&with(private_text(update_id, OWNER, &command), fields))
            .await;
        let texts = app.wait_texts_to(OWNER, 2 + i).await;
        assert!(
            texts[1 + i].starts_with("I take commands only from messages you type yourself"),
            "{texts:?}"
        );
    }
    // An edit of a message into the command does not run it either.
    let mut edit = private_text(4, OWNER, &command);
    edit["edited_message"] = edit["message"].take();
    edit.as_object_mut().unwrap().remove("message");
    edit["edited_message"]["edit_date"] = json!(1_700_000_100);
    app.post_update(&edit).await;
    app.wait_handled(4).await;
    // The quote of another message is not the text: "ok" is not a command.
    let quoted = with(
        private_text(5, OWNER, "ok"),
        json!({"quote": {"text": command, "position": 0}}),
    );
    app.post_update(&quoted).await;
    app.wait_handled(5).await;
    assert_eq!(
        telegate::store::users::role(app.db(), USER).await.unwrap(),
        None,
        "nobody was made an owner"
    );
    let outcomes = app.audit_outcomes(OWNER).await;
    assert!(
        outcomes.contains(&"not run: the message was forwarded".to_owned()),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_forwarded_passcode_does_not_enrol_a_stranger() {
    let app = owner_with_session().await;
    let stranger = 9009;
    app.say(2, stranger, "/start").await;
    let forwarded = with(
        private_text(3, stranger, PASSCODE),
        json!({"forward_origin": {"type": "hidden_user", "date": 1, "sender_user_name": "Someone"}}),
    );
    app.post_update(&forwarded).await;
    let texts = app.wait_texts_to(stranger, 2).await;
    assert!(texts[1].starts_with(telegate::bot::REFUSAL), "{texts:?}");
    assert_eq!(
        telegate::store::users::role(app.db(), stranger)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn revoking_an_allowed_user_with_a_stored_owner_role_removes_the_role() {
    let app = owner_with_session().await;
    let promoted = app
        .say(2, OWNER, &format!("/allow {CONFIGURED} owner"))
        .await;
    assert!(promoted.contains("as an owner"), "{promoted}");
    let revoked = app.say(3, OWNER, &format!("/revoke {CONFIGURED}")).await;
    assert!(
        revoked.contains("lost the owner role")
            && revoked.contains("remove them there and restart telegate"),
        "{revoked}"
    );
    assert_eq!(
        telegate::store::users::role(app.db(), CONFIGURED)
            .await
            .unwrap(),
        None,
        "no stored row is left to make them an owner once ALLOWED_CHAT_IDS no longer lists them"
    );
}

#[tokio::test]
async fn the_configured_owner_is_told_of_every_change_a_co_owner_makes() {
    let app = owner_with_session().await;
    app.say(2, OWNER, &format!("/allow {USER} owner")).await;
    auth(&app, 3, USER).await;
    let sent_to_owner = app.texts_to(OWNER).len();
    app.say(4, USER, "/allow 666 owner").await;
    app.say(5, USER, "/unlock 777").await;
    app.say(6, USER, "/revoke 666").await;
    let texts = app.wait_texts_to(OWNER, sent_to_owner + 3).await;
    let notices = &texts[sent_to_owner..];
    assert_eq!(
        notices,
        [
            format!("Owner {USER} ran /allow: user 666 allowed as owner."),
            format!("Owner {USER} ran /unlock: user 777 unlocked."),
            format!("Owner {USER} ran /revoke: user 666 revoked."),
        ]
    );
    // The configured owner's own changes are not echoed back.
    app.say(7, OWNER, "/unlock 778").await;
    app.say(8, OWNER, "/ping").await;
    assert_eq!(app.texts_to(OWNER).len(), sent_to_owner + 5);
}
