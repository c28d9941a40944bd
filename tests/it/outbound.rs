//! Outbound delivery against the stand-in, which enforces Telegram's flood
//! limits: everything arrives once, as fast as the limits allow.

use std::{collections::HashMap, time::Duration};

use telegate::standin::{Call, Fault};

use crate::support::{
    DEADLINE, OWNER, TestApp,
    updates::{group_text, private_text},
};

/// Successful sendMessage calls per chat.
fn delivered(calls: &[Call]) -> HashMap<i64, usize> {
    let mut per_chat = HashMap::new();
    for c in calls {
        if c.method == "sendMessage" && c.status == 200 {
            *per_chat
                .entry(c.params["chat_id"].as_i64().unwrap())
                .or_default() += 1;
        }
    }
    per_chat
}

fn total(calls: &[Call]) -> usize {
    delivered(calls).values().sum()
}

#[tokio::test]
async fn three_hundred_replies_to_thirty_chats_all_arrive_once_within_the_limits() {
    let chats: Vec<i64> = (1..=30).map(|i| 7000 + i).collect();
    let allowed = chats
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let app = TestApp::spawn_with(&[("ALLOWED_CHAT_IDS", &allowed)]).await;
    let mut id = 0;
    for round in 0..10 {
        for chat in &chats {
            id += 1;
            let text = format!("/start {round}");
            app.post_update(&private_text(id, *chat, &text)).await;
        }
    }
    let calls = app
        .standin
        .wait_for(Duration::from_secs(40), |calls| {
            (total(calls) >= 300).then(|| calls.to_vec())
        })
        .await
        .expect("300 replies arrive (10 per chat at one a second: about 10 s)");
    let per_chat = delivered(&calls);
    assert_eq!(per_chat.len(), 30);
    assert!(
        per_chat.values().all(|n| *n == 10),
        "none twice: {per_chat:?}"
    );
    let refused = app.standin.too_many_requests();
    assert!(refused <= 3, "at most a handful of 429s, got {refused}");
}

#[tokio::test]
async fn twenty_five_messages_to_a_group_keep_to_twenty_a_minute() {
    let group = -100_777;
    let app = TestApp::spawn_with(&[("ALLOWED_CHAT_IDS", &group.to_string())]).await;
    for id in 1..=25 {
        app.post_update(&group_text(id, group, OWNER, "/ping"))
            .await;
    }
    // Move the clock the server and the stand-in share: a second at a time,
    // each time waiting (briefly) for what that second lets through.
    let mut sent = 0;
    let started = std::time::Instant::now();
    while sent < 25 {
        assert!(
            started.elapsed() < DEADLINE * 2,
            "only {sent} of 25 arrived"
        );
        let before = sent;
        let more = app
            .standin
            .wait_for(Duration::from_millis(50), |calls| {
                let n = delivered(calls).get(&group).copied().unwrap_or(0);
                (n > before).then_some(n)
            })
            .await;
        match more {
            Some(n) => sent = n,
            None => app.clock.advance(Duration::from_secs(1)),
        }
    }
    let times: Vec<i64> = app
        .standin
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage" && c.status == 200)
        .map(|c| c.at_ms)
        .collect();
    for (i, t) in times.iter().enumerate() {
        let in_minute = times[i..].iter().filter(|u| **u < t + 60_000).count();
        assert!(
            in_minute <= 20,
            "{in_minute} messages in the minute from {t}"
        );
    }
    assert!(times[24] - times[0] >= 70_000, "spaced, not in bursts");
    assert_eq!(app.standin.too_many_requests(), 0);
}

#[tokio::test]
async fn after_a_429_500s_and_dropped_connections_every_message_arrives_once() {
    let app = TestApp::spawn_with(&[("ALLOWED_CHAT_IDS", "8001,8002,8003")]).await;
    let standin = &app.standin;
    standin.fail_next("sendMessage", Fault::too_many_requests(1));
    standin.fail_next("sendMessage", Fault::internal_error());
    standin.fail_next("sendMessage", Fault::Drop);
    standin.fail_next("sendMessage", Fault::HtmlBadGateway);
    let mut id = 0;
    for round in 0..3 {
        for chat in [8001, 8002, 8003] {
            id += 1;
            app.post_update(&private_text(id, chat, &format!("/start {round}")))
                .await;
        }
    }
    let calls = standin
        .wait_for(DEADLINE * 2, |calls| {
            (total(calls) >= 9).then(|| calls.to_vec())
        })
        .await
        .expect("every reply arrives");
    assert!(
        delivered(&calls).values().all(|n| *n == 3),
        "{:?}",
        delivered(&calls)
    );
    let failed = calls.iter().filter(|c| c.status != 200).count();
    assert!(failed >= 4, "the injected faults were met: {failed}");
}

#[tokio::test]
async fn a_429_holds_the_chat_and_the_wait_outlasts_a_restart() {
    let mut app = TestApp::spawn().await;
    app.standin.fail_chat(OWNER, Fault::too_many_requests(120));
    app.post_update(&private_text(1, OWNER, "/ping")).await;
    app.post_update(&private_text(2, OWNER, "/ping")).await;
    app.standin
        .wait_for(DEADLINE, |calls| {
            calls.iter().any(|c| c.status == 429).then_some(())
        })
        .await
        .expect("the 429 is met");
    app.wait_handled(2).await;
    app.standin.heal();
    app.stop().await;

    let db = telegate::store::open(&app.db_path()).await.unwrap();
    let waits: Vec<i64> = sqlx::query_scalar(
        "SELECT next_attempt_at FROM outbox WHERE chat_id = ? AND status = 'pending' ORDER BY id",
    )
    .bind(OWNER)
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    assert_eq!(waits.len(), 2, "both replies wait");
    let now = app.clock.now_ms();
    // The chat's first reply carries the wait; the one queued behind it goes
    // only after it (one chat's calls leave in order).
    assert!(waits[0] > now + 100_000, "{waits:?} vs {now}");

    app.start().await;
    // Not before the wait is over, even after the restart...
    let early = app
        .standin
        .wait_for(Duration::from_millis(300), |calls| {
            (total(calls) > 0).then_some(())
        })
        .await;
    assert!(early.is_none(), "sent during the 429's wait");
    // ...and then both, once.
    app.clock.advance(Duration::from_secs(121));
    assert_eq!(app.wait_texts_to(OWNER, 2).await, ["pong", "pong"]);
}

#[tokio::test]
async fn a_reply_telegram_refuses_is_dead_lettered_and_audited() {
    let app = TestApp::spawn().await;
    app.standin.fail_next(
        "sendMessage",
        Fault::Error {
            code: 403,
            description: "Forbidden: bot was blocked by the user".into(),
            retry_after: None,
        },
    );
    app.post_update(&private_text(1, OWNER, "/ping")).await;
    let outcome = crate::support::eventually(|| async {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT outcome FROM audit WHERE kind = 'outbox'")
                .fetch_all(app.db())
                .await
                .unwrap();
        rows.into_iter().next()
    })
    .await
    .expect("the dead letter is audited");
    assert!(
        outcome.contains("Forbidden: bot was blocked by the user"),
        "{outcome}"
    );
    let status = app.say(2, OWNER, "/status").await;
    assert!(
        status.contains("Messages that could not be delivered: 1"),
        "{status}"
    );
}

#[tokio::test]
async fn too_many_requests_in_two_chats_hold_every_chat_until_the_wait_is_over() {
    let app = TestApp::spawn_with(&[("ALLOWED_CHAT_IDS", "8101,8102,8103")]).await;
    app.standin
        .fail_next("sendMessage", Fault::too_many_requests(120));
    app.standin
        .fail_next("sendMessage", Fault::too_many_requests(120));
    app.post_update(&private_text(1, 8101, "/ping")).await;
    app.post_update(&private_text(2, 8102, "/ping")).await;
    app.standin
        .wait_for(DEADLINE, |calls| {
            (calls.iter().filter(|c| c.status == 429).count() == 2).then_some(())
        })
        .await
        .expect("two chats meet a 429");
    app.post_update(&private_text(3, 8103, "/ping")).await;
    app.wait_handled(3).await;
    let early = app
        .standin
        .wait_for(Duration::from_millis(300), |calls| {
            (total(calls) > 0).then_some(())
        })
        .await;
    assert!(
        early.is_none(),
        "a third chat waits too: the overall limit was hit"
    );
    app.clock.advance(Duration::from_secs(121));
    let calls = app
        .standin
        .wait_for(DEADLINE, |calls| {
            (total(calls) >= 3).then(|| calls.to_vec())
        })
        .await
        .expect("all three replies arrive after the wait");
    assert!(delivered(&calls).values().all(|n| *n == 1));
}
