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
