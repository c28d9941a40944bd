//! The stand-in answers like the Bot API, as seen through telegate's client.

use frankenstein::types::Message;
use serde_json::json;
use telegate::{
    config::Secret,
    standin::{Fault, NOT_MODIFIED, StandIn},
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
        ApiError::Transport(e) | ApiError::Local(e) => panic!("expected an API error, got {e}"),
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

/// The description of a 400 answer.
fn bad_request(error: ApiError) -> String {
    match error {
        ApiError::Api {
            code: 400,
            description,
            ..
        } => description,
        other => panic!("expected a 400, got {other}"),
    }
}

fn run_cancel() -> serde_json::Value {
    json!({"inline_keyboard": [[
        {"text": "Run", "callback_data": "run:1"},
        {"text": "Cancel", "callback_data": "cancel:1"},
    ]]})
}

/// A stand-in without flood limits (these tests edit one message quickly).
async fn unlimited() -> (StandIn, BotClient) {
    let (standin, client) = standin_and_client().await;
    standin.set_limits(None);
    (standin, client)
}

#[tokio::test]
async fn an_edit_changes_the_kept_message_and_answers_with_the_edited_message() {
    let (standin, client) = unlimited().await;
    let sent = client
        .call(
            "sendMessage",
            &json!({"chat_id": 5, "text": "Run?", "reply_markup": run_cancel()}),
        )
        .await
        .unwrap();
    assert_eq!(sent["reply_markup"], run_cancel());
    let edited = client
        .call(
            "editMessageText",
            &json!({"chat_id": 5, "message_id": 1, "text": "<b>running</b>", "parse_mode": "HTML"}),
        )
        .await
        .unwrap();
    let message: Message = serde_json::from_value(edited.clone()).expect("a valid Message");
    assert_eq!(message.text.as_deref(), Some("running"));
    assert!(message.edit_date.is_some(), "{edited}");
    assert!(
        edited.get("reply_markup").is_none(),
        "no reply_markup removes the keyboard"
    );
    let kept = standin.message(5, 1).unwrap();
    assert_eq!(
        (kept.text.as_str(), kept.shown.as_str(), kept.edits),
        ("<b>running</b>", "running", 1)
    );
    assert_eq!(kept.parse_mode.as_deref(), Some("HTML"));
    assert_eq!(kept.reply_markup, None);
    assert!(kept.buttons().is_empty());
}

#[tokio::test]
async fn editing_a_message_that_was_never_sent_is_refused_as_not_found() {
    let (_standin, client) = unlimited().await;
    client
        .call("sendMessage", &json!({"chat_id": 5, "text": "one"}))
        .await
        .unwrap();
    for (method, params) in [
        (
            "editMessageText",
            json!({"chat_id": 5, "message_id": 2, "text": "x"}),
        ),
        (
            "editMessageText",
            json!({"chat_id": 6, "message_id": 1, "text": "x"}),
        ),
        (
            "editMessageReplyMarkup",
            json!({"chat_id": 5, "message_id": 9}),
        ),
    ] {
        let error = client.call(method, &params).await.unwrap_err();
        assert_eq!(
            bad_request(error),
            "Bad Request: message to edit not found",
            "{method} {params}"
        );
    }
}

#[tokio::test]
async fn an_edit_that_changes_nothing_is_refused_as_not_modified() {
    let (standin, client) = unlimited().await;
    let same = json!({"chat_id": 5, "message_id": 1, "text": "Run?", "reply_markup": run_cancel()});
    client
        .call(
            "sendMessage",
            &json!({"chat_id": 5, "text": "Run?", "reply_markup": run_cancel()}),
        )
        .await
        .unwrap();
    let error = client.call("editMessageText", &same).await.unwrap_err();
    assert_eq!(bad_request(error), NOT_MODIFIED);
    let error = client
        .call(
            "editMessageReplyMarkup",
            &json!({"chat_id": 5, "message_id": 1, "reply_markup": run_cancel()}),
        )
        .await
        .unwrap_err();
    assert_eq!(bad_request(error), NOT_MODIFIED);
    assert_eq!(standin.message(5, 1).unwrap().edits, 0);
    // The same text without the keyboard is a change.
    client
        .call(
            "editMessageText",
            &json!({"chat_id": 5, "message_id": 1, "text": "Run?"}),
        )
        .await
        .unwrap();
    assert_eq!(standin.message(5, 1).unwrap().edits, 1);
}

#[tokio::test]
async fn edit_message_reply_markup_replaces_or_removes_the_keyboard() {
    let (standin, client) = unlimited().await;
    client
        .call(
            "sendMessage",
            &json!({"chat_id": 5, "text": "Run?", "reply_markup": run_cancel()}),
        )
        .await
        .unwrap();
    let only_cancel =
        json!({"inline_keyboard": [[{"text": "Cancel", "callback_data": "cancel:1"}]]});
    let edited = client
        .call(
            "editMessageReplyMarkup",
            &json!({"chat_id": 5, "message_id": 1, "reply_markup": only_cancel}),
        )
        .await
        .unwrap();
    assert_eq!(edited["reply_markup"], only_cancel);
    assert_eq!(edited["text"], "Run?");
    let buttons: Vec<String> = standin
        .message(5, 1)
        .unwrap()
        .buttons()
        .into_iter()
        .map(|b| b.text)
        .collect();
    assert_eq!(buttons, ["Cancel"]);
    client
        .call(
            "editMessageReplyMarkup",
            &json!({"chat_id": 5, "message_id": 1}),
        )
        .await
        .unwrap();
    let kept = standin.message(5, 1).unwrap();
    assert_eq!((kept.reply_markup, kept.edits), (None, 2));
}

#[tokio::test]
async fn edits_of_both_kinds_count_toward_the_flood_limits() {
    let (standin, client) = standin_and_client().await;
    for chat_id in [5, 6] {
        client
            .call("sendMessage", &json!({"chat_id": chat_id, "text": "one"}))
            .await
            .unwrap();
    }
    let text = client
        .call(
            "editMessageText",
            &json!({"chat_id": 5, "message_id": 1, "text": "two"}),
        )
        .await
        .unwrap_err();
    let markup = client
        .call(
            "editMessageReplyMarkup",
            &json!({"chat_id": 6, "message_id": 1, "reply_markup": run_cancel()}),
        )
        .await
        .unwrap_err();
    for error in [text, markup] {
        assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(1)));
    }
    assert_eq!(standin.too_many_requests(), 2);
}

#[tokio::test]
async fn html_that_telegram_cannot_parse_is_refused_and_escaped_html_is_shown_as_plain_text() {
    let (standin, client) = unlimited().await;
    for unescaped in [
        "<pre>if a < b then</pre>",
        "<pre>output",
        "<pre><script>x</script></pre>",
    ] {
        let error = client
            .call(
                "sendMessage",
                &json!({"chat_id": 5, "text": unescaped, "parse_mode": "HTML"}),
            )
            .await
            .unwrap_err();
        let description = bad_request(error);
        assert!(
            description.starts_with("Bad Request: can't parse entities: "),
            "{unescaped}: {description}"
        );
    }
    let escaped = "<pre>if a &lt; b &amp;&amp; c &gt; d then &quot;x&quot;</pre> <i>done</i> <a href=\"https://example.org\">link</a> <code>x</code>";
    let sent = client
        .call(
            "sendMessage",
            &json!({"chat_id": 5, "text": escaped, "parse_mode": "HTML"}),
        )
        .await
        .unwrap();
    let shown = "if a < b && c > d then \"x\" done link x";
    assert_eq!(sent["text"], shown);
    let types: Vec<&str> = sent["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["pre", "italic", "text_link", "code"]);
    let message: Message = serde_json::from_value(sent).expect("a valid Message");
    assert_eq!(message.entities.map(|e| e.len()), Some(4));
    assert_eq!(standin.messages(5)[0].shown, shown);
}

#[tokio::test]
async fn a_press_makes_the_callback_query_update_of_the_button_and_expects_an_answer() {
    let (standin, client) = unlimited().await;
    client
        .call(
            "sendMessage",
            &json!({"chat_id": 5, "text": "Run?", "reply_markup": run_cancel()}),
        )
        .await
        .unwrap();
    assert_eq!(
        standin.press(40, 5, 1, 77, "Delete"),
        None,
        "no such button"
    );
    assert_eq!(standin.press(40, 5, 2, 77, "Run"), None, "no such message");
    let update = standin.press(40, 5, 1, 77, "Run").expect("the Run button");
    let query = &update["callback_query"];
    assert_eq!(update["update_id"], 40);
    assert_eq!(
        (
            &query["data"],
            &query["from"]["id"],
            &query["message"]["message_id"]
        ),
        (&json!("run:1"), &json!(77), &json!(1))
    );
    assert_eq!(query["message"]["reply_markup"], run_cancel());
    let parsed: frankenstein::updates::Update =
        serde_json::from_value(update.clone()).expect("an Update frankenstein reads");
    assert!(matches!(
        parsed.content,
        frankenstein::updates::UpdateContent::CallbackQuery(_)
    ));
    let id = query["id"].as_str().unwrap();
    assert_eq!(standin.unanswered_callbacks(), [id]);
    client
        .call(
            "answerCallbackQuery",
            &json!({"callback_query_id": id, "text": "Running"}),
        )
        .await
        .unwrap();
    assert!(standin.unanswered_callbacks().is_empty());
    assert_eq!(standin.callback_answers()[0]["text"], "Running");
}

#[tokio::test]
async fn answer_callback_query_needs_a_query_id_and_a_text_of_at_most_200_characters() {
    let (standin, client) = unlimited().await;
    for params in [json!({}), json!({"callback_query_id": ""})] {
        let error = client
            .call("answerCallbackQuery", &params)
            .await
            .unwrap_err();
        assert!(
            bad_request(error).contains("query ID is invalid"),
            "{params}"
        );
    }
    let fits = json!({"callback_query_id": "1", "text": "é".repeat(200)});
    assert!(client.call("answerCallbackQuery", &fits).await.is_ok());
    let too_long = json!({"callback_query_id": "1", "text": "é".repeat(201)});
    let error = client
        .call("answerCallbackQuery", &too_long)
        .await
        .unwrap_err();
    assert_eq!(code(error), 400);
    assert_eq!(standin.callback_answers().len(), 1);
}

#[tokio::test]
async fn a_button_without_an_action_or_with_callback_data_over_64_bytes_is_refused() {
    let (_standin, client) = unlimited().await;
    for button in [
        json!({"text": "Run"}),
        json!({"text": "Run", "callback_data": "x".repeat(65)}),
        json!({"text": "", "callback_data": "x"}),
    ] {
        let params =
            json!({"chat_id": 5, "text": "Run?", "reply_markup": {"inline_keyboard": [[button]]}});
        let error = client.call("sendMessage", &params).await.unwrap_err();
        assert_eq!(code(error), 400, "{button}");
    }
    let longest = json!({"inline_keyboard": [[{"text": "Run", "callback_data": "x".repeat(64)}]]});
    let params = json!({"chat_id": 5, "text": "Run?", "reply_markup": longest});
    assert!(client.call("sendMessage", &params).await.is_ok());
}

#[tokio::test]
async fn every_message_is_kept_per_chat_documents_with_their_name_and_size() {
    let (standin, client) = unlimited().await;
    client
        .call("sendMessage", &json!({"chat_id": 5, "text": "one"}))
        .await
        .unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "line 1\nline 2\n").unwrap();
    client
        .call_with_file(
            "sendDocument",
            &json!({"chat_id": 5, "caption": "output"}),
            "document",
            file.path(),
        )
        .await
        .unwrap();
    client
        .call("sendMessage", &json!({"chat_id": 6, "text": "elsewhere"}))
        .await
        .unwrap();
    let kept = standin.messages(5);
    assert_eq!(kept.len(), 2);
    assert_eq!((kept[0].message_id, kept[0].text.as_str()), (1, "one"));
    let document = kept[1].document.as_ref().expect("a document");
    assert_eq!(
        (
            document.size,
            document.content.as_str(),
            kept[1].shown.as_str()
        ),
        (14, "line 1\nline 2\n", "output")
    );
    let error = client
        .call(
            "editMessageText",
            &json!({"chat_id": 5, "message_id": 2, "text": "x"}),
        )
        .await
        .unwrap_err();
    assert!(bad_request(error).contains("no text in the message"));
    assert_eq!(standin.messages(6)[0].message_id, 1);
}
