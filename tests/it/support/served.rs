//! Talking to a `telegate serve` child over HTTP, for the storage-fault
//! tests: /ping from many chats, /health and /metrics, and the replies the
//! stand-in received.

use std::collections::BTreeMap;

use frankenstein::reqwest::Client;
use serde_json::Value;
use telegate::standin::StandIn;

use super::{SECRET, TELEGRAM_IP, updates::private_text};
use crate::binary::Served;

/// Posts `/ping` from `chat` as Telegram would; returns the status.
pub async fn post(http: &Client, addr: &str, update_id: i64, chat: i64) -> u16 {
    http.post(format!("http://{addr}/telegram/webhook"))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .header("x-forwarded-for", TELEGRAM_IP)
        .body(private_text(update_id, chat, "/ping").to_string())
        .send()
        .await
        .expect("telegate serve answers")
        .status()
        .as_u16()
}

/// GET /health: the status and the JSON body.
pub async fn health(http: &Client, addr: &str) -> (u16, Value) {
    let response = http
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("/health answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// /health answers 503, `"database":"failing"`, with an error that says `what`.
pub async fn assert_health_failing(http: &Client, addr: &str, what: &str) {
    let (status, body) = health(http, addr).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "failing", "{body}");
    assert!(
        body["database_error"]
            .as_str()
            .unwrap_or_default()
            .contains(what),
        "{body}"
    );
}

/// The value of the sample `line` (name and labels) on /metrics.
pub async fn metric(http: &Client, served: &Served, line: &str) -> Option<f64> {
    let text = http
        .get(format!("http://{}/metrics", metrics_addr(served)))
        .send()
        .await
        .expect("/metrics answers")
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
}

/// Where serve's /metrics listens, from its "telegate is listening" line.
fn metrics_addr(served: &Served) -> String {
    served
        .logs_now()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|e| e["fields"]["metrics_addr"].as_str().map(str::to_owned))
        .expect("serve logged its metrics address")
}

/// Replies each chat got, by chat.
pub fn pongs(standin: &StandIn) -> BTreeMap<i64, u32> {
    let mut counts = BTreeMap::new();
    for call in standin.calls() {
        if call.method == "sendMessage" && call.status == 200 {
            *counts
                .entry(call.params["chat_id"].as_i64().unwrap())
                .or_insert(0) += 1;
        }
    }
    counts
}
