//! GET /metrics on METRICS_ADDR: what monitoring scrapes.

use telegate::standin::Fault;

use crate::support::{OWNER, SECRET, TELEGRAM_IP, TestApp, updates::private_text};

#[tokio::test]
async fn metrics_count_updates_refusals_calls_and_queues() {
    let app = TestApp::spawn().await;
    app.standin
        .fail_next("sendMessage", Fault::internal_error());
    app.say(1, OWNER, "/ping").await;
    app.post_raw(
        private_text(2, OWNER, "/ping").to_string(),
        &[
            ("x-telegram-bot-api-secret-token", "wrong"),
            ("x-forwarded-for", TELEGRAM_IP),
        ],
    )
    .await;
    app.post_raw(
        private_text(3, OWNER, "/ping").to_string(),
        &[
            ("x-telegram-bot-api-secret-token", SECRET),
            ("x-forwarded-for", "10.1.2.3"),
        ],
    )
    .await;

    let text = app.metrics().await;
    for line in [
        "telegate_webhook_requests_total{outcome=\"ok\"} 1",
        "telegate_webhook_requests_total{outcome=\"wrong_secret\"} 1",
        "telegate_webhook_requests_total{outcome=\"address_not_allowed\"} 1",
        "telegate_updates_total{kind=\"message\",decision=\"allowed\"} 1",
        "telegate_bot_api_calls_total{method=\"getMe\",result=\"ok\"} 1",
        "telegate_bot_api_calls_total{method=\"sendMessage\",result=\"500\"} 1",
        "telegate_bot_api_calls_total{method=\"sendMessage\",result=\"ok\"} 1",
        "telegate_send_retries_total 1",
        "telegate_webhook_ack_seconds_count 1",
        "telegate_inbox_pending 0",
        "telegate_outbox_pending 0",
        "telegate_outbox_dead 0",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}
