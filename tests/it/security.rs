//! The webhook's guards: secret token, client address, body limit, JSON shape.

use crate::support::{OWNER, SECRET, TELEGRAM_IP, TestApp, updates::private_text};

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[tokio::test]
async fn a_missing_or_wrong_secret_gets_401_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let missing = app
        .post_raw(
            private_text(1, OWNER, "/ping").to_string(),
            &[("x-forwarded-for", TELEGRAM_IP)],
        )
        .await;
    assert_eq!(missing.status(), 401);
    let wrong = app
        .post_raw(
            private_text(2, OWNER, "/ping").to_string(),
            &[
                (SECRET_HEADER, "not-the-secret"),
                ("x-forwarded-for", TELEGRAM_IP),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let prefix = &SECRET[..SECRET.len() - 1];
    let truncated = app
        .post_raw(
            private_text(3, OWNER, "/ping").to_string(),
            &[(SECRET_HEADER, prefix), ("x-forwarded-for", TELEGRAM_IP)],
        )
        .await;
    assert_eq!(truncated.status(), 401);
    for id in 1..=3 {
        assert_eq!(
            app.inbox_status(id).await,
            None,
            "update {id} must not be stored"
        );
    }
}

#[tokio::test]
async fn a_client_outside_telegram_ranges_gets_403_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let response = app
        .post_raw(
            private_text(1, OWNER, "/ping").to_string(),
            &[(SECRET_HEADER, SECRET), ("x-forwarded-for", "203.0.113.7")],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(app.inbox_status(1).await, None);
}

#[tokio::test]
async fn the_address_check_comes_before_the_secret_check() {
    let app = TestApp::spawn().await;
    let response = app
        .post_raw(
            private_text(1, OWNER, "/ping").to_string(),
            &[("x-forwarded-for", "203.0.113.7")],
        )
        .await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    // No trusted proxy: the loopback peer itself is the client.
    let app = TestApp::spawn_with(&[("TRUSTED_PROXIES", "")]).await;
    let spoofed = app.post_update(&private_text(1, OWNER, "/ping")).await;
    assert_eq!(
        spoofed.status(),
        403,
        "a Telegram address in X-Forwarded-For must not help an untrusted peer"
    );
    let real_ip = app
        .post_raw(
            private_text(2, OWNER, "/ping").to_string(),
            &[(SECRET_HEADER, SECRET), ("x-real-ip", TELEGRAM_IP)],
        )
        .await;
    assert_eq!(real_ip.status(), 403);

    // And the other way round: the peer is allowed, whatever it claims to forward.
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", ""),
        ("TELEGRAM_IP_RANGES", "127.0.0.1/32"),
    ])
    .await;
    let response = app
        .post_raw(
            private_text(3, OWNER, "/ping").to_string(),
            &[(SECRET_HEADER, SECRET), ("x-forwarded-for", "203.0.113.7")],
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_forwarded_address_counts() {
    let app = TestApp::spawn().await;
    // The client wrote the left entry itself; the proxy appended the real one.
    let forged_left = format!("{TELEGRAM_IP}, 203.0.113.7");
    let response = app
        .post_raw(
            private_text(1, OWNER, "/ping").to_string(),
            &[(SECRET_HEADER, SECRET), ("x-forwarded-for", &forged_left)],
        )
        .await;
    assert_eq!(response.status(), 403);
    let real_right = format!("203.0.113.7, {TELEGRAM_IP}, 127.0.0.1");
    let response = app
        .post_raw(
            private_text(2, OWNER, "/ping").to_string(),
            &[(SECRET_HEADER, SECRET), ("x-forwarded-for", &real_right)],
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn ipv6_peers_and_forwarded_ipv6_addresses_work() {
    let app = TestApp::spawn_with(&[
        ("LISTEN_ADDR", "[::1]:0"),
        ("TELEGRAM_IP_RANGES", "149.154.160.0/20,2001:67c:4e8::/48"),
    ])
    .await;
    let inside = app
        .post_raw(
            private_text(1, OWNER, "/ping").to_string(),
            &[
                (SECRET_HEADER, SECRET),
                ("x-forwarded-for", "2001:67c:4e8:f004::9"),
            ],
        )
        .await;
    assert_eq!(inside.status(), 200);
    let outside = app
        .post_raw(
            private_text(2, OWNER, "/ping").to_string(),
            &[(SECRET_HEADER, SECRET), ("x-forwarded-for", "2001:db8::1")],
        )
        .await;
    assert_eq!(outside.status(), 403);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(telegate::http::MAX_BODY_BYTES);
    let mut update = private_text(1, OWNER, "/ping");
    update["message"]["padding"] = padding.into();
    let response = app.post_update(&update).await;
    assert_eq!(response.status(), 413);
    assert_eq!(app.inbox_status(1).await, None);
}

#[tokio::test]
async fn malformed_or_over_deep_json_or_no_update_id_gets_400() {
    let app = TestApp::spawn().await;
    let headers = [(SECRET_HEADER, SECRET), ("x-forwarded-for", TELEGRAM_IP)];
    let deep = format!(
        r#"{{"update_id":1,"message":{}1{}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    for body in [
        "{not json",
        "[]",
        r#"{"message":{}}"#,
        r#"{"update_id":"7"}"#,
        deep.as_str(),
    ] {
        let response = app.post_raw(body.to_owned(), &headers).await;
        assert_eq!(response.status(), 400, "{body:.40}");
        let reason = response.text().await.unwrap();
        assert!(!reason.trim().is_empty(), "a 400 says why");
    }
    assert_eq!(app.inbox_status(1).await, None);
}

#[tokio::test]
async fn a_get_on_the_webhook_gets_405_and_other_paths_404() {
    let app = TestApp::spawn().await;
    let response = frankenstein::reqwest::Client::new()
        .get(app.url(crate::support::WEBHOOK_PATH))
        .header(SECRET_HEADER, SECRET)
        .header("x-forwarded-for", TELEGRAM_IP)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(app.get("/somewhere/else").await.status(), 404);
}
