//! `telegate notify` and `telegate outbox`: scripts queue messages for the
//! running server, or send them at once when none runs.

use telegate::standin::Fault;

use crate::support::{DEADLINE, OWNER, TestApp, run_telegate, updates::private_text};

async fn run(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String, String) {
    run_telegate(app, args, stdin).await
}

#[tokio::test]
async fn notify_queues_for_the_running_server_which_sends_it() {
    let app = TestApp::spawn().await;
    let (ok, out, err) = run(&app, &["notify", "backup finished"], "").await;
    assert!(ok, "{err}");
    assert!(out.starts_with("queued as "), "{out}");
    assert_eq!(app.wait_texts_to(OWNER, 1).await, ["backup finished"]);

    let (ok, _, err) = run(
        &app,
        &["notify", "--chat", "-100123", "--silent", "-"],
        "disk 91% full\n",
    )
    .await;
    assert!(ok, "{err}");
    let sent = app
        .standin
        .wait_for(DEADLINE, |_| {
            app.standin
                .successful("sendMessage")
                .into_iter()
                .find(|p| p["chat_id"] == -100_123)
        })
        .await
        .expect("the piped message is sent to the group");
    assert_eq!(sent["text"], "disk 91% full");
    assert_eq!(sent["disable_notification"], true);
    let audit = app.audit_outcomes_of_kind("cli").await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(
        audit
            .iter()
            .all(|o| !o.contains("backup") && !o.contains("disk")),
        "no text in the audit: {audit:?}"
    );
}

#[tokio::test]
async fn notify_now_sends_without_a_server_and_is_refused_beside_one() {
    let mut app = TestApp::spawn().await;
    let (ok, _, err) = run(&app, &["notify", "--now", "hello"], "").await;
    assert!(!ok);
    assert!(err.contains("another telegate is sending from"), "{err}");
    assert!(
        err.contains("without --now the running server sends it"),
        "{err}"
    );

    app.stop().await;
    let before = app.texts_to(OWNER).len();
    let (ok, out, err) = run(&app, &["notify", "--now", "sent directly"], "").await;
    assert!(ok, "{err}");
    assert!(out.starts_with("sent ("), "{out}");
    assert_eq!(app.texts_to(OWNER)[before..], ["sent directly"]);
}

#[tokio::test]
async fn notify_explains_bad_input_and_a_missing_database() {
    let app = TestApp::prepare(&[]).await;
    let (ok, _, err) = run(&app, &["notify", "hello"], "").await;
    assert!(!ok);
    assert!(err.contains("there is no database at"), "{err}");
    let (ok, _, err) = run(&app, &["notify", "-"], "   \n").await;
    assert!(!ok);
    assert!(err.contains("the message is empty"), "{err}");
}

#[tokio::test]
async fn a_dead_letter_is_listed_and_can_be_queued_again() {
    let app = TestApp::spawn().await;
    app.standin.fail_next(
        "sendMessage",
        Fault::Error {
            code: 400,
            description: "Bad Request: chat not found".into(),
            retry_after: None,
        },
    );
    app.post_update(&private_text(1, OWNER, "/ping")).await;
    let dead = crate::support::eventually(|| async {
        let (_, out, _) = run(&app, &["outbox", "--dead"], "").await;
        (!out.is_empty()).then_some(out)
    })
    .await
    .expect("the dead letter is listed");
    assert!(
        dead.contains("sendMessage") && dead.contains("chat not found"),
        "{dead}"
    );
    let id = dead.split('\t').next().unwrap();

    let (ok, out, err) = run(&app, &["outbox", "retry", id], "").await;
    assert!(ok, "{err}");
    assert!(out.contains("queued again"), "{out}");
    assert_eq!(app.wait_texts_to(OWNER, 1).await, ["pong"]);
    let (ok, _, err) = run(&app, &["outbox", "retry", id], "").await;
    assert!(!ok && err.contains("is not a dead letter"), "{err}");
}

#[tokio::test]
async fn a_long_notification_is_split_and_a_very_long_one_sent_as_a_file() {
    let app = TestApp::spawn().await;
    // Emoji are two UTF-16 units each: 3 paragraphs of 3000 units.
    let paragraph = "😀 ".repeat(1000);
    let long = [paragraph.trim_end(); 3].join("\n\n");
    let (ok, _, err) = run(&app, &["notify", "-"], &long).await;
    assert!(ok, "{err}");
    let parts = app.wait_texts_to(OWNER, 3).await;
    assert_eq!(
        parts.join("\n\n"),
        long,
        "three parts, cut between paragraphs"
    );

    let very_long = [paragraph.trim_end(); 12].join("\n\n");
    let (ok, _, err) = run(&app, &["notify", "-"], &very_long).await;
    assert!(ok, "{err}");
    let document = app
        .standin
        .wait_for(DEADLINE, |_| app.standin.successful("sendDocument").pop())
        .await
        .expect("sent as a document");
    assert_eq!(document["document"]["file_name"], "message.txt");
    assert_eq!(document["document"]["content"], very_long.as_str());
    assert_eq!(document["chat_id"], OWNER);
}
