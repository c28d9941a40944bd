//! GET /health.

use serde_json::Value;

use crate::support::{TestApp, eventually};

#[tokio::test]
async fn health_reports_ok_with_queue_depths_once_registered() {
    let app = TestApp::spawn().await;
    let body = eventually(|| async {
        let body: Value = app.get("/health").await.json_value().await;
        (body["webhook"]["registered"] == true).then_some(body)
    })
    .await
    .expect("the webhook gets registered");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["pending_updates"], 0);
    assert_eq!(body["pending_outbound"], 0);
}

#[tokio::test]
async fn health_is_503_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    app.db().close().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json_value().await;
    assert_eq!(body["database"], "unreachable");
}

/// reqwest is built without its `json` feature; parse the text.
pub trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for frankenstein::reqwest::Response {
    async fn json_value(self) -> Value {
        let text = self.text().await.expect("a body");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// This machine's address on its default route: not loopback, so a request
/// to it comes from "elsewhere" as far as the server can tell.
fn own_public_address() -> std::net::IpAddr {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    // No packet is sent: connect only picks the route and its source address.
    probe
        .connect("192.0.2.1:9")
        .or_else(|_| probe.connect("8.8.8.8:53"))
        .expect("this test needs a network interface besides loopback");
    probe.local_addr().unwrap().ip()
}

#[tokio::test]
async fn health_refuses_a_peer_that_is_neither_loopback_nor_a_trusted_proxy() {
    let ip = own_public_address();
    assert!(!ip.is_loopback());
    let mut app = TestApp::spawn_with(&[("LISTEN_ADDR", "0.0.0.0:0")]).await;
    let port = app
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let url = format!("http://{ip}:{port}/health");
    // Restarts come back on the same port.
    app.vars
        .insert("LISTEN_ADDR".into(), format!("0.0.0.0:{port}"));

    let closed = frankenstein::reqwest::get(&url).await;
    assert!(
        closed.is_err(),
        "a peer outside every allowed range is not answered at all: {closed:?}"
    );
    assert_eq!(app.get("/health").await.status(), 200, "loopback may");

    app.stop().await;
    app.vars
        .insert("TELEGRAM_IP_RANGES".into(), format!("{ip}/32"));
    app.start().await;
    let refused = frankenstein::reqwest::get(&url).await.unwrap();
    assert_eq!(refused.status(), 403, "Telegram may post updates only");
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("only loopback and TRUSTED_PROXIES")
    );

    app.stop().await;
    app.vars
        .insert("TRUSTED_PROXIES".into(), format!("{ip}/32"));
    app.start().await;
    let admitted = frankenstein::reqwest::get(&url).await.unwrap();
    assert_eq!(admitted.status(), 200, "a trusted proxy may");
}
