//! Step-up authentication: sensitive commands need a session opened with
//! /auth, which ends on /logout, inactivity or age.

use std::time::Duration;

use telegate::{
    auth::totp::TotpVerifier,
    bot::{
        guard::LOCKED,
        session::{EXPIRED, LOGGED_OUT, NEEDS_SESSION},
    },
};

use crate::support::{OWNER, TestApp, eventually, updates::group_text};

/// A 160-bit secret in base32, as `telegate totp-setup` prints one.
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const PASSCODE: &str = "correct-horse-42";
const USER: i64 = 5005;

async fn with_totp(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("TOTP_SECRET", TOTP_SECRET)];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

/// The code an authenticator app shows at the server's time.
fn code_now(app: &TestApp) -> String {
    code_at(app, 0)
}

fn code_at(app: &TestApp, seconds_from_now: i64) -> String {
    let totp = TotpVerifier::from_base32(TOTP_SECRET).unwrap();
    let at = app.clock.now_ms() / 1000 + seconds_from_now;
    totp.code_at(u64::try_from(at).unwrap())
}

async fn open_session(app: &TestApp, update_id: i64, user: i64) {
    let reply = app
        .say(update_id, user, &format!("/auth {}", code_now(app)))
        .await;
    assert!(reply.starts_with("Session open"), "{reply}");
}

async fn session_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sensitive_command_needs_a_session_and_is_refused_after_the_timeout() {
    let app = with_totp(&[("SESSION_TIMEOUT", "600")]).await;
    assert_eq!(app.say(1, OWNER, "/users").await, NEEDS_SESSION);

    open_session(&app, 2, OWNER).await;
    assert_eq!(
        app.wait_deleted(OWNER, 1).await,
        [2],
        "the code is deleted from the chat"
    );
    let users = app.say(3, OWNER, "/users").await;
    assert!(users.starts_with("Owner (BOT_OWNER_ID): 4242"), "{users}");

    app.clock.advance(Duration::from_secs(601));
    let refused = app.say(4, OWNER, "/users").await;
    assert!(
        refused == EXPIRED || refused == NEEDS_SESSION,
        "refused after SESSION_TIMEOUT: {refused}"
    );
    let audit = app.audit_outcomes(OWNER).await;
    for outcome in [
        "refused: no session",
        "session opened (totp)",
        "session expired",
    ] {
        assert!(audit.iter().any(|o| o == outcome), "{outcome}: {audit:?}");
    }
}

#[tokio::test]
async fn activity_slides_the_timeout_but_not_past_the_maximum_age() {
    let app = with_totp(&[("SESSION_TIMEOUT", "600"), ("SESSION_MAX_AGE", "25m")]).await;
    open_session(&app, 1, OWNER).await;
    for id in 2..=3 {
        app.clock.advance(Duration::from_secs(540));
        let reply = app.say(id, OWNER, "/lockouts").await;
        assert_eq!(reply, "Nobody is locked out.", "still open at step {id}");
    }
    // 18 minutes in, active: the next use at 27 minutes passes the maximum age.
    app.clock.advance(Duration::from_secs(540));
    let refused = app.say(4, OWNER, "/lockouts").await;
    assert!(refused == EXPIRED || refused == NEEDS_SESSION, "{refused}");
}

#[tokio::test]
async fn logout_closes_the_session() {
    let app = with_totp(&[]).await;
    open_session(&app, 1, OWNER).await;
    assert_eq!(app.say(2, OWNER, "/logout").await, LOGGED_OUT);
    assert_eq!(app.say(3, OWNER, "/users").await, NEEDS_SESSION);
    assert!(
        app.audit_outcomes(OWNER)
            .await
            .contains(&"session closed".to_owned())
    );
}

#[tokio::test]
async fn a_totp_code_works_once_and_a_stale_one_not_at_all() {
    let app = with_totp(&[]).await;
    let code = code_now(&app);
    let opened = app.say(1, OWNER, &format!("/auth {code}")).await;
    assert!(opened.starts_with("Session open"), "{opened}");
    app.say(2, OWNER, "/logout").await;

    let reused = app.say(3, OWNER, &format!("/auth {code}")).await;
    assert!(reused.starts_with("That code is wrong"), "{reused}");
    let stale = app
        .say(4, OWNER, &format!("/auth {}", code_at(&app, -120)))
        .await;
    assert!(stale.starts_with("That code is wrong"), "{stale}");
    assert_eq!(app.say(5, OWNER, "/users").await, NEEDS_SESSION);

    // The next step's code is fresh.
    app.clock.advance(Duration::from_secs(30));
    open_session(&app, 6, OWNER).await;
    assert_eq!(app.wait_deleted(OWNER, 4).await, [1, 3, 4, 6]);
}

#[tokio::test]
async fn wrong_codes_lock_out_and_then_the_right_one_is_refused() {
    let app = with_totp(&[]).await;
    for id in 1..=5 {
        app.say(id, OWNER, "/auth 000000").await;
    }
    assert_eq!(app.texts_to(OWNER).last().unwrap(), LOCKED);
    let refused = app
        .say(6, OWNER, &format!("/auth {}", code_now(&app)))
        .await;
    assert_eq!(refused, LOCKED);
    assert_eq!(session_rows(&app).await, 0);
    assert!(
        app.audit_outcomes(OWNER)
            .await
            .contains(&"auth while locked out".to_owned())
    );
}

#[tokio::test]
async fn without_a_totp_secret_the_passcode_opens_a_session_and_is_deleted() {
    let app = TestApp::spawn_with(&[("ENROLLMENT_PASSCODE", PASSCODE)]).await;
    let opened = app.say(1, OWNER, &format!("/auth {PASSCODE}")).await;
    assert!(opened.starts_with("Session open"), "{opened}");
    assert_eq!(app.wait_deleted(OWNER, 1).await, [1]);
    assert!(app.say(2, OWNER, "/users").await.starts_with("Owner"));
    assert!(
        app.audit_outcomes(OWNER)
            .await
            .contains(&"session opened (passcode)".to_owned())
    );
}

#[tokio::test]
async fn without_any_second_factor_sensitive_commands_are_off() {
    let app = TestApp::spawn().await;
    let reply = app.say(1, OWNER, "/auth 123456").await;
    assert!(reply.starts_with("Sensitive commands are off"), "{reply}");
    assert_eq!(app.say(2, OWNER, "/users").await, NEEDS_SESSION);
}

#[tokio::test]
async fn a_session_survives_a_restart_and_an_expired_one_does_not() {
    let mut app = with_totp(&[("SESSION_TIMEOUT", "600")]).await;
    open_session(&app, 1, OWNER).await;
    app.stop().await;
    app.start().await;
    assert!(app.say(2, OWNER, "/users").await.starts_with("Owner"));

    app.stop().await;
    app.clock.advance(Duration::from_secs(601));
    app.start().await;
    let closed = eventually(|| async { (session_rows(&app).await == 0).then_some(()) }).await;
    assert!(closed.is_some(), "the expired session is closed at startup");
    assert!(
        app.audit_outcomes(OWNER)
            .await
            .contains(&"session expired".to_owned())
    );
}

#[tokio::test]
async fn revoke_removes_a_user_and_closes_their_session() {
    let app = with_totp(&[]).await;
    open_session(&app, 1, OWNER).await;
    let allowed = app.say(2, OWNER, &format!("/allow {USER}")).await;
    assert!(allowed.contains("may use the bot now"), "{allowed}");
    app.clock.advance(Duration::from_secs(30));
    open_session(&app, 3, USER).await;
    assert_eq!(session_rows(&app).await, 2);

    let revoked = app.say(4, OWNER, &format!("/revoke {USER}")).await;
    assert!(revoked.contains("may no longer use the bot"), "{revoked}");
    let user_session: Option<i64> =
        sqlx::query_scalar("SELECT opened_at FROM sessions WHERE user_id = ?")
            .bind(USER)
            .fetch_optional(app.db())
            .await
            .unwrap();
    assert_eq!(user_session, None);
    assert_eq!(
        app.say(5, USER, "/ping").await,
        telegate::bot::refusal(USER),
        "a revoked user is a stranger again"
    );
}

#[tokio::test]
async fn a_totp_code_sent_in_a_group_is_deleted_spent_and_opens_nothing() {
    let group = -100_555;
    let app = with_totp(&[("ALLOWED_CHAT_IDS", &group.to_string())]).await;
    let code = code_now(&app);
    app.post_update(&group_text(1, group, OWNER, &format!("/auth {code}")))
        .await;
    let texts = app.wait_texts_to(group, 1).await;
    assert!(
        texts[0].starts_with("Send /auth in a private chat with me"),
        "{texts:?}"
    );
    assert_eq!(app.wait_deleted(group, 1).await, [1]);
    assert_eq!(session_rows(&app).await, 0);
    // Someone in the group who copies the code gets nowhere with it.
    let reply = app.say(2, OWNER, &format!("/auth {code}")).await;
    assert!(
        reply.starts_with("That code is wrong, or was used"),
        "{reply}"
    );
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn a_passcode_sent_in_a_group_is_reported_in_private_and_not_confirmed_to_the_group() {
    let group = -100_556;
    let app = TestApp::spawn_with(&[
        ("ENROLLMENT_PASSCODE", PASSCODE),
        ("ALLOWED_CHAT_IDS", &format!("{group},{USER}")),
    ])
    .await;
    let wrong = format!("/auth {PASSCODE}x");
    app.post_update(&group_text(1, group, USER, &wrong)).await;
    app.post_update(&group_text(2, group, USER, &format!("/auth {PASSCODE}")))
        .await;
    let texts = app.wait_texts_to(group, 2).await;
    assert_eq!(texts[0], texts[1], "the group cannot tell right from wrong");
    assert_eq!(app.wait_deleted(group, 2).await, [1, 2]);
    let to_user = app.wait_texts_to(USER, 1).await;
    assert!(
        to_user[0].contains("sent the passcode in a group"),
        "{to_user:?}"
    );
    let to_owner = app.wait_texts_to(OWNER, 1).await;
    assert!(
        to_owner[0].contains(&format!("User {USER} sent the passcode"))
            && to_owner[0].contains("Change ENROLLMENT_PASSCODE"),
        "{to_owner:?}"
    );
    assert_eq!(app.texts_to(USER).len(), 1, "the wrong one warned nobody");
    assert_eq!(session_rows(&app).await, 0);
}
