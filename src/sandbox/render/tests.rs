//! The screen, fed with the calls a real stand-in recorded.

use serde_json::{Value, json};

use super::Screen;
use crate::{config::Secret, standin::StandIn, telegram::BotClient};

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX";
const CHAT: i64 = 10_001;

async fn standin() -> (StandIn, BotClient) {
    let standin = StandIn::start(TOKEN, "a_bot").await.unwrap();
    standin.set_limits(None);
    let client = BotClient::new(&standin.url(), &Secret::new(TOKEN)).unwrap();
    (standin, client)
}

fn keyboard(buttons: &[&str]) -> Value {
    let row: Vec<Value> = buttons
        .iter()
        .map(|b| json!({"text": b, "callback_data": format!("data-{b}")}))
        .collect();
    json!({ "inline_keyboard": [row] })
}

/// Every line shown for the calls so far.
fn shown(screen: &mut Screen, standin: &StandIn) -> Vec<String> {
    standin.calls()[screen.seen..]
        .iter()
        .flat_map(|call| screen.show(call))
        .collect()
}

#[tokio::test]
async fn a_keyboard_is_shown_as_numbered_buttons_under_its_message() {
    let (standin, client) = standin().await;
    let params = json!({"chat_id": CHAT, "text": "Run <b>/logs nginx</b>?", "parse_mode": "HTML", "reply_markup": keyboard(&["Run", "Cancel"])});
    client.call("sendMessage", &params).await.unwrap();
    let mut screen = Screen::new(CHAT);
    assert_eq!(
        shown(&mut screen, &standin),
        ["bot> Run /logs nginx?", "   [1] Run   [2] Cancel"]
    );
    let run = screen.button(1).unwrap();
    assert_eq!((run.message_id, run.nth, run.text.as_str()), (1, 0, "Run"));
    assert_eq!(screen.button(2).unwrap().nth, 1);
}

#[tokio::test]
async fn numbers_go_on_across_keyboards_and_an_edit_that_removes_one_frees_its_numbers() {
    let (standin, client) = standin().await;
    for text in ["first?", "second?"] {
        let params =
            json!({"chat_id": CHAT, "text": text, "reply_markup": keyboard(&["Run", "Cancel"])});
        client.call("sendMessage", &params).await.unwrap();
    }
    let mut screen = Screen::new(CHAT);
    let lines = shown(&mut screen, &standin);
    assert_eq!(lines[3], "   [3] Run   [4] Cancel", "{lines:?}");
    client
        .call(
            "editMessageText",
            &json!({"chat_id": CHAT, "message_id": 1, "text": "first: cancelled"}),
        )
        .await
        .unwrap();
    assert_eq!(
        shown(&mut screen, &standin),
        [
            "bot (edited 1)> first: cancelled",
            "   (its buttons are gone)"
        ]
    );
    assert_eq!(screen.numbers(), [3, 4]);
    assert_eq!(screen.button(3).unwrap().message_id, 2);
}

#[tokio::test]
async fn each_edit_is_shown_once_with_its_count_and_html_as_plain_text() {
    let (standin, client) = standin().await;
    client
        .call(
            "sendMessage",
            &json!({"chat_id": CHAT, "text": "⏳ /count — running"}),
        )
        .await
        .unwrap();
    for seconds in [2, 4] {
        let text = format!("⏳ /count — running, {seconds} s\n<pre>1 &lt; 2</pre>");
        let params = json!({"chat_id": CHAT, "message_id": 1, "text": text, "parse_mode": "HTML"});
        client.call("editMessageText", &params).await.unwrap();
    }
    let mut screen = Screen::new(CHAT);
    assert_eq!(
        shown(&mut screen, &standin),
        [
            "bot> ⏳ /count — running",
            "bot (edited 1)> ⏳ /count — running, 2 s\n1 < 2",
            "bot (edited 2)> ⏳ /count — running, 4 s\n1 < 2",
        ]
    );
    assert!(shown(&mut screen, &standin).is_empty(), "shown once");
}

#[tokio::test]
async fn a_document_is_shown_with_its_name_size_and_first_lines() {
    let (standin, client) = standin().await;
    let file = tempfile::NamedTempFile::new().unwrap();
    let content: String = (1..=8).map(|n| format!("line {n}\n")).collect();
    std::fs::write(file.path(), &content).unwrap();
    client
        .call_with_file(
            "sendDocument",
            &json!({"chat_id": CHAT}),
            "document",
            file.path(),
        )
        .await
        .unwrap();
    let mut screen = Screen::new(CHAT);
    let lines = shown(&mut screen, &standin);
    let name = file.path().file_name().unwrap().to_string_lossy();
    assert_eq!(
        lines[0],
        format!("bot> [document {name}, {} bytes]", content.len())
    );
    assert_eq!(
        lines[1..=5],
        [
            "   | line 1",
            "   | line 2",
            "   | line 3",
            "   | line 4",
            "   | line 5"
        ]
    );
    assert_eq!(lines[6], "   | ... (3 more lines)");
}

#[tokio::test]
async fn answers_to_a_press_are_shown_as_toasts_and_other_chats_are_named() {
    let (standin, client) = standin().await;
    let answers = [
        json!({"callback_query_id": "1", "text": "Cancelled"}),
        json!({"callback_query_id": "2", "text": "Not yours", "show_alert": true}),
        json!({"callback_query_id": "3"}),
    ];
    for params in &answers {
        client.call("answerCallbackQuery", params).await.unwrap();
    }
    client
        .call("sendMessage", &json!({"chat_id": 42, "text": "hello"}))
        .await
        .unwrap();
    let mut screen = Screen::new(CHAT);
    assert_eq!(
        shown(&mut screen, &standin),
        [
            "bot (toast)> Cancelled",
            "bot (alert)> Not yours",
            "bot (to chat 42)> hello"
        ]
    );
}

#[tokio::test]
async fn an_edit_that_keeps_the_buttons_keeps_their_numbers() {
    let (standin, client) = standin().await;
    for text in ["⏳ /count — running", "Run /disk?"] {
        let params = json!({"chat_id": CHAT, "text": text, "reply_markup": keyboard(&["Cancel"])});
        client.call("sendMessage", &params).await.unwrap();
    }
    let mut screen = Screen::new(CHAT);
    shown(&mut screen, &standin);
    let params = json!({"chat_id": CHAT, "message_id": 1, "text": "⏳ /count — running, 2 s", "reply_markup": keyboard(&["Cancel"])});
    client.call("editMessageText", &params).await.unwrap();
    assert_eq!(
        shown(&mut screen, &standin),
        ["bot (edited 1)> ⏳ /count — running, 2 s", "   [1] Cancel"]
    );
    assert_eq!(screen.numbers(), [1, 2]);
}
