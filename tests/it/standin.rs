//! The stand-in answers like the Bot API, as seen through telegate's client.

use frankenstein::types::Message;
use serde_json::json;
use telegate::{
    config::Secret,
    standin::{Fault, StandIn},
    telegram::{ApiError, BotClient},
};

use crate::support::{BOT_USERNAME, TOKEN};

async fn standin_and_client() -> (StandIn, BotClient) {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let client = BotClient::new(&standin.url(), &Secret::new(TOKEN)).unwrap();
    (standin, client)
}

fn code(error: ApiError) -> u64 {
    match error {
        ApiError::Api { code, .. } => code,
        ApiError::Transport(e) => panic!("expected an API error, got {e}"),
    }
}

#[tokio::test]
async fn send_message_returns_a_message_that_frankenstein_parses() {
    let (_standin, client) = standin_and_client().await;
    let result = client
        .call("sendMessage", &json!({"chat_id": 5, "text": "hi"}))
        .await
        .unwrap();
    let message: Message = serde_json::from_value(result).expect("a valid Message");
    assert_eq!(
        (message.chat.id, message.text.as_deref(), message.message_id),
        (5, Some("hi"), 1)
    );
    let me = client.call("getMe", &json!({})).await.unwrap();
    assert_eq!(me["username"], BOT_USERNAME);
}

#[tokio::test]
async fn a_wrong_token_gets_401() {
    let (standin, _) = standin_and_client().await;
    let wrong = BotClient::new(
        &standin.url(),
        &Secret::new("123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .unwrap();
    let error = wrong.call("getMe", &json!({})).await.unwrap_err();
    assert_eq!(code(error), 401);
}

#[tokio::test]
async fn empty_and_over_long_texts_get_400_counted_in_utf16_units() {
    let (_standin, client) = standin_and_client().await;
    let empty = client
        .call("sendMessage", &json!({"chat_id": 5, "text": ""}))
        .await
        .unwrap_err();
    assert_eq!(code(empty), 400);
    // An emoji outside the BMP is two UTF-16 code units. (Each message goes
    // to its own chat: one a second per chat is the flood limit.)
    let fits = "😀".repeat(2048);
    assert!(
        client
            .call("sendMessage", &json!({"chat_id": 6, "text": fits}))
            .await
            .is_ok()
    );
    let too_long = format!("{}a", "😀".repeat(2048));
    let error = client
        .call("sendMessage", &json!({"chat_id": 7, "text": too_long}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ApiError::Api { code: 400, description, .. } if description.contains("too long")),
        "{error}"
    );
}

#[tokio::test]
async fn injected_faults_are_answered_like_the_bot_api_and_classified() {
    let (standin, client) = standin_and_client().await;
    standin.fail_next("sendMessage", Fault::too_many_requests(3));
    standin.fail_next("sendMessage", Fault::HtmlBadGateway);
    standin.fail_next("sendMessage", Fault::Drop);
    let params = json!({"chat_id": 5, "text": "hi"});
    let throttled = client.call("sendMessage", &params).await.unwrap_err();
    assert_eq!(
        throttled.retry_after(),
        Some(std::time::Duration::from_secs(3))
    );
    assert!(throttled.is_transient());
    let html = client.call("sendMessage", &params).await.unwrap_err();
    assert!(
        matches!(html, ApiError::Transport(_)) && html.is_transient(),
        "{html}"
    );
    let dropped = client.call("sendMessage", &params).await.unwrap_err();
    assert!(matches!(dropped, ApiError::Transport(_)), "{dropped}");
    assert!(
        client.call("sendMessage", &params).await.is_ok(),
        "faults are used once each"
    );
    let unknown = client.call("noSuchMethod", &json!({})).await.unwrap_err();
    assert_eq!(code(unknown), 404);
}

#[tokio::test]
async fn the_client_never_prints_the_token() {
    let (_standin, client) = standin_and_client().await;
    let debug = format!("{client:?}");
    assert!(!debug.contains(TOKEN.split_once(':').unwrap().1), "{debug}");
}

#[tokio::test]
async fn a_second_message_to_a_chat_within_a_second_gets_429_with_retry_after() {
    let (standin, client) = standin_and_client().await;
    let first = client
        .call("sendMessage", &json!({"chat_id": 5, "text": "one"}))
        .await;
    assert!(first.is_ok());
    let second = client
        .call("sendMessage", &json!({"chat_id": 5, "text": "two"}))
        .await
        .unwrap_err();
    assert_eq!(
        second.retry_after(),
        Some(std::time::Duration::from_secs(1))
    );
    assert_eq!(standin.too_many_requests(), 1);
    let elsewhere = client
        .call("sendMessage", &json!({"chat_id": 6, "text": "three"}))
        .await;
    assert!(elsewhere.is_ok(), "another chat is not held back");
    let not_a_message = client
        .call("deleteMessage", &json!({"chat_id": 5, "message_id": 1}))
        .await;
    assert!(not_a_message.is_ok(), "only messages count");
}
