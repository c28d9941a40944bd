//! Enrolment with the passcode, and the lockout in front of it.

use telegate::bot::{
    enrol::{ASK, WELCOME},
    guard::LOCKED,
    refusal,
};

use crate::support::{OWNER, TestApp, eventually, updates::private_text};

const PASSCODE: &str = "correct-horse-42";
const STRANGER: i64 = 5005;

async fn with_passcode() -> TestApp {
    TestApp::spawn_with(&[("ENROLLMENT_PASSCODE", PASSCODE)]).await
}

#[tokio::test]
async fn a_stranger_enrols_with_the_passcode_and_stays_enrolled_after_a_restart() {
    let mut app = with_passcode().await;
    app.post_update(&private_text(1, STRANGER, "/start")).await;
    assert_eq!(app.wait_texts_to(STRANGER, 1).await, [ASK]);
    app.post_update(&private_text(2, STRANGER, PASSCODE)).await;
    assert_eq!(app.wait_texts_to(STRANGER, 2).await[1], WELCOME);
    assert_eq!(
        app.wait_deleted(STRANGER, 1).await,
        [2],
        "the passcode message is deleted"
    );
    let to_owner = app.wait_texts_to(OWNER, 1).await;
    assert!(
        to_owner[0].contains(&STRANGER.to_string()) && to_owner[0].contains("enrolled"),
        "{to_owner:?}"
    );
    app.post_update(&private_text(3, STRANGER, "/ping")).await;
    assert_eq!(app.wait_texts_to(STRANGER, 3).await[2], "pong");

    app.stop().await;
    app.start().await;
    app.post_update(&private_text(4, STRANGER, "/ping")).await;
    assert_eq!(
        app.wait_texts_to(STRANGER, 4).await[3],
        "pong",
        "enrolment survives a restart"
    );
}

#[tokio::test]
async fn a_wrong_passcode_is_deleted_too_and_refused() {
    let app = with_passcode().await;
    app.post_update(&private_text(1, STRANGER, "/start")).await;
    app.post_update(&private_text(2, STRANGER, "not-the-passcode"))
        .await;
    let texts = app.wait_texts_to(STRANGER, 2).await;
    assert!(
        texts[1].starts_with("That is not the passcode"),
        "{texts:?}"
    );
    assert_eq!(app.wait_deleted(STRANGER, 1).await, [2]);
    app.post_update(&private_text(3, STRANGER, "/ping")).await;
    assert_eq!(app.wait_texts_to(STRANGER, 3).await[2], refusal(STRANGER));
}

#[tokio::test]
async fn five_wrong_passcodes_lock_out_and_then_even_the_right_one_is_refused() {
    let app = with_passcode().await;
    app.post_update(&private_text(1, STRANGER, "/start")).await;
    for id in 2..=6 {
        app.post_update(&private_text(id, STRANGER, &format!("guess-{id}")))
            .await;
    }
    let texts = app.wait_texts_to(STRANGER, 6).await;
    assert_eq!(texts[5], LOCKED, "{texts:?}");
    app.post_update(&private_text(7, STRANGER, PASSCODE)).await;
    assert_eq!(app.wait_texts_to(STRANGER, 7).await[6], LOCKED);
    assert_eq!(app.wait_deleted(STRANGER, 6).await, [2, 3, 4, 5, 6, 7]);
    app.post_update(&private_text(8, STRANGER, "/ping")).await;
    assert_eq!(
        app.wait_texts_to(STRANGER, 8).await[7],
        refusal(STRANGER),
        "not enrolled"
    );
    let to_owner = app.wait_texts_to(OWNER, 1).await;
    assert!(to_owner[0].contains("locked out"), "{to_owner:?}");
    app.wait_handled(8).await;
    assert_eq!(
        app.texts_to(OWNER).len(),
        1,
        "the owner hears of a lockout once"
    );
    let audit = app.audit_outcomes(STRANGER).await;
    assert!(
        audit.iter().any(|o| o == "locked out after wrong codes"),
        "{audit:?}"
    );
    assert!(
        audit.iter().any(|o| o == "passcode while locked out"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn strangers_cannot_lock_out_the_owner_or_an_enrolled_user() {
    let app = with_passcode().await;
    let mut id = 0;
    for stranger in [OWNER + 1, OWNER + 2, OWNER + 3] {
        id += 1;
        app.post_update(&private_text(id, stranger, "/start")).await;
        for _ in 0..5 {
            id += 1;
            // Guesses sent "from" the owner's chat would be the owner's own:
            // strangers can only fail in their own chats.
            app.post_update(&private_text(id, stranger, "guess")).await;
        }
    }
    app.post_update(&private_text(100, OWNER, "/ping")).await;
    // Three lockout notices and the pong, in any order.
    let owner = app.wait_texts_to(OWNER, 4).await;
    assert!(owner.iter().any(|t| t == "pong"), "{owner:?}");
    let owner_locked: Option<i64> =
        sqlx::query_scalar("SELECT until FROM lockouts WHERE user_id = ?")
            .bind(OWNER)
            .fetch_optional(app.db())
            .await
            .unwrap();
    assert_eq!(owner_locked, None);
    app.post_update(&private_text(101, OWNER, PASSCODE)).await;
    app.wait_handled(101).await;
    assert!(
        app.deleted_in(OWNER).is_empty(),
        "the owner's messages are never treated as passcodes"
    );
}

#[tokio::test]
async fn without_a_passcode_enrolment_is_off() {
    let app = TestApp::spawn().await;
    app.post_update(&private_text(1, STRANGER, "/start")).await;
    assert_eq!(app.wait_texts_to(STRANGER, 1).await, [refusal(STRANGER)]);
}

#[tokio::test]
async fn no_passcode_remains_in_the_database_files() {
    let app = with_passcode().await;
    app.post_update(&private_text(1, STRANGER, "/start")).await;
    app.post_update(&private_text(2, STRANGER, "wrong-guess-xyzzy"))
        .await;
    app.post_update(&private_text(3, STRANGER, PASSCODE)).await;
    assert_eq!(app.wait_texts_to(STRANGER, 3).await[2], WELCOME);
    app.wait_handled(3).await;
    // While the server runs: the WAL and the free pages are what could keep it.
    for secret in [PASSCODE, "wrong-guess-xyzzy"] {
        let found = files_holding(&app, secret);
        assert!(found.is_empty(), "{secret:?} found in {found:?}");
    }
}

/// The files beside the database that hold `secret`.
fn files_holding(app: &TestApp, secret: &str) -> Vec<std::path::PathBuf> {
    let dir = app.db_path().parent().unwrap().to_owned();
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let bytes = std::fs::read(path).unwrap_or_default();
            bytes.windows(secret.len()).any(|w| w == secret.as_bytes())
        })
        .collect()
}

#[tokio::test]
async fn a_scrub_a_reader_blocked_is_retried_until_the_passcode_is_gone() {
    let app = with_passcode().await;
    app.say(1, STRANGER, "/start").await;
    // A reader on an old snapshot, as a backup in progress would be.
    let reader = telegate::store::open_reader(&app.db_path()).await.unwrap();
    let mut snapshot = reader.begin().await.unwrap();
    let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
        .fetch_one(&mut *snapshot)
        .await
        .unwrap();
    app.post_update(&private_text(2, STRANGER, PASSCODE)).await;
    assert_eq!(app.wait_texts_to(STRANGER, 2).await[1], WELCOME);
    assert!(
        !files_holding(&app, PASSCODE).is_empty(),
        "the reader keeps the old pages in the WAL"
    );
    snapshot.rollback().await.unwrap();
    let gone = eventually(|| async { files_holding(&app, PASSCODE).is_empty().then_some(()) });
    assert!(gone.await.is_some(), "{:?}", files_holding(&app, PASSCODE));
}

#[tokio::test]
async fn wrong_passcodes_from_many_accounts_pause_enrolment_for_an_hour() {
    let app = TestApp::spawn_with(&[
        ("ENROLLMENT_PASSCODE", PASSCODE),
        ("ENROLLMENT_MAX_WRONG_PER_HOUR", "3"),
    ])
    .await;
    assert_eq!(app.say(1, STRANGER, "/start").await, ASK);
    // Three throwaway accounts, one wrong guess each: no one is locked out.
    for (i, stranger) in [7001, 7002, 7003].into_iter().enumerate() {
        let id = 10 * (1 + i64::try_from(i).unwrap());
        app.say(id + 1, stranger, "/start").await;
        let wrong = app.say(id + 2, stranger, "a-wrong-guess-1").await;
        assert!(wrong.starts_with("That is not the passcode"), "{wrong}");
    }
    let to_owner = app.wait_texts_to(OWNER, 1).await;
    assert!(
        to_owner[0].starts_with("Enrolment is paused for an hour: 3 wrong passcodes"),
        "{to_owner:?}"
    );
    // Even the right passcode is not checked while enrolment is paused.
    assert_eq!(app.say(41, STRANGER, PASSCODE).await, LOCKED);
    assert_eq!(app.wait_deleted(STRANGER, 1).await, [41]);
    assert_eq!(app.say(42, 7004, "/start").await, LOCKED);
    assert_eq!(app.say(43, STRANGER, "/ping").await, refusal(STRANGER));

    app.clock.advance(std::time::Duration::from_secs(3601));
    assert_eq!(app.say(44, STRANGER, "/start").await, ASK);
    assert_eq!(app.say(45, STRANGER, PASSCODE).await, WELCOME);
}
