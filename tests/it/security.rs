//! The webhook's guards: secret token, client address, body limit, JSON shape.

use crate::support::{OWNER, SECRET, TELEGRAM_IP, TestApp, WEBHOOK_PATH, updates::private_text};

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Posts the owner's `/ping` as update `id` with exactly `headers`, and
/// returns the status.
async fn ping_with(app: &TestApp, id: i64, headers: &[(&str, &str)]) -> u16 {
    let body = private_text(id, OWNER, "/ping").to_string();
    app.post_raw(body, headers).await.status().as_u16()
}

/// The right secret, from the forwarded address `client`.
async fn ping_from(app: &TestApp, id: i64, client: &str) -> u16 {
    ping_with(
        app,
        id,
        &[(SECRET_HEADER, SECRET), ("x-forwarded-for", client)],
    )
    .await
}

#[tokio::test]
async fn a_missing_or_wrong_secret_gets_401_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let from_telegram = ("x-forwarded-for", TELEGRAM_IP);
    assert_eq!(ping_with(&app, 1, &[from_telegram]).await, 401);
    assert_eq!(
        ping_with(&app, 2, &[(SECRET_HEADER, "not-the-secret"), from_telegram]).await,
        401
    );
    let prefix = &SECRET[..SECRET.len() - 1];
    assert_eq!(
        ping_with(&app, 3, &[(SECRET_HEADER, prefix), from_telegram]).await,
        401
    );
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
    assert_eq!(ping_from(&app, 1, "203.0.113.7").await, 403);
    assert_eq!(app.inbox_status(1).await, None);
}

#[tokio::test]
async fn the_address_check_comes_before_the_secret_check() {
    let app = TestApp::spawn().await;
    assert_eq!(
        ping_with(&app, 1, &[("x-forwarded-for", "203.0.113.7")]).await,
        403
    );
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    // No trusted proxy: the loopback peer itself is the client.
    let app = TestApp::spawn_with(&[("TRUSTED_PROXIES", "")]).await;
    assert_eq!(
        ping_from(&app, 1, TELEGRAM_IP).await,
        403,
        "a Telegram address in X-Forwarded-For must not help"
    );
    assert_eq!(
        ping_with(
            &app,
            2,
            &[(SECRET_HEADER, SECRET), ("x-real-ip", TELEGRAM_IP)]
        )
        .await,
        403
    );

    // And the other way round: the peer is allowed, whatever it claims to forward.
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", ""),
        ("TELEGRAM_IP_RANGES", "127.0.0.1/32"),
    ])
    .await;
    assert_eq!(ping_from(&app, 3, "203.0.113.7").await, 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_forwarded_address_counts() {
    let app = TestApp::spawn().await;
    // The client wrote the left entry itself; the proxy appended the real one.
    assert_eq!(
        ping_from(&app, 1, &format!("{TELEGRAM_IP}, 203.0.113.7")).await,
        403
    );
    assert_eq!(
        ping_from(&app, 2, &format!("203.0.113.7, {TELEGRAM_IP}, 127.0.0.1")).await,
        200
    );
}

#[tokio::test]
async fn ipv6_peers_and_forwarded_ipv6_addresses_work() {
    let app = TestApp::spawn_with(&[
        ("LISTEN_ADDR", "[::1]:0"),
        ("TELEGRAM_IP_RANGES", "149.154.160.0/20,2001:67c:4e8::/48"),
    ])
    .await;
    assert_eq!(ping_from(&app, 1, "2001:67c:4e8:f004::9").await, 200);
    assert_eq!(ping_from(&app, 2, "2001:db8::1").await, 403);
    // The ::1 peer itself, when it is not a proxy but inside the ranges.
    let app = TestApp::spawn_with(&[
        ("LISTEN_ADDR", "[::1]:0"),
        ("TRUSTED_PROXIES", ""),
        ("TELEGRAM_IP_RANGES", "::1/128"),
    ])
    .await;
    assert_eq!(ping_with(&app, 3, &[(SECRET_HEADER, SECRET)]).await, 200);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let mut update = private_text(1, OWNER, "/ping");
    update["message"]["padding"] = "x".repeat(telegate::http::MAX_BODY_BYTES).into();
    assert_eq!(app.post_update(&update).await.status(), 413);
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
        .get(app.url(WEBHOOK_PATH))
        .header(SECRET_HEADER, SECRET)
        .header("x-forwarded-for", TELEGRAM_IP)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(app.get("/somewhere/else").await.status(), 404);
}
