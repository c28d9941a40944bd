//! Pressing a numbered button: the typed number, the button it names, and
//! the callback_query update sent for it, against a real stand-in.

use serde_json::json;

use super::{
    OWNER_ID, Screen, Typed, press,
    updates::{owner, pressed},
};
use crate::{config::Secret, standin::StandIn, telegram::BotClient};

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX";

/// A stand-in holding a confirmation with [Run] [Cancel] in the owner's
/// chat, and the screen that showed it.
async fn confirmation() -> (StandIn, BotClient, Screen) {
    let standin = StandIn::start(TOKEN, "a_bot").await.unwrap();
    standin.set_limits(None);
    let client = BotClient::new(&standin.url(), &Secret::new(TOKEN)).unwrap();
    let keyboard = json!({"inline_keyboard": [[
        {"text": "Run", "callback_data": "c:run:17"},
        {"text": "Cancel", "callback_data": "c:cancel:17"},
    ]]});
    let params =
        json!({"chat_id": OWNER_ID, "text": "Run /restart nginx?", "reply_markup": keyboard});
    client.call("sendMessage", &params).await.unwrap();
    let mut screen = Screen::new(OWNER_ID);
    for call in standin.calls() {
        screen.show(&call);
    }
    (standin, client, screen)
}

#[tokio::test]
async fn typing_a_shown_number_presses_that_button_as_the_owner() {
    let (standin, _client, screen) = confirmation().await;
    let Typed::Press(slot) = press::read("2", &screen) else {
        panic!("2 names a button");
    };
    let update = pressed(&standin, 7, &slot).expect("the button is there");
    let query = &update["callback_query"];
    assert_eq!(update["update_id"], 7);
    assert_eq!(query["data"], "c:cancel:17");
    assert_eq!(query["from"], owner());
    assert_eq!(query["message"]["text"], "Run /restart nginx?");
    assert_eq!(query["message"]["chat"]["id"], OWNER_ID);
    assert_eq!(
        standin.unanswered_callbacks(),
        [query["id"].as_str().unwrap()]
    );
}

#[tokio::test]
async fn a_number_naming_no_button_gets_a_hint_and_sends_nothing() {
    let (_standin, _client, screen) = confirmation().await;
    let Typed::Hint(hint) = press::read("3", &screen) else {
        panic!("3 names no button");
    };
    assert!(
        hint.contains("no button [3]") && hint.contains("[1] and [2]") && hint.contains("\\3"),
        "{hint}"
    );
    assert_eq!(press::read("\\3", &screen), Typed::Message("3"));
}

#[tokio::test]
async fn a_button_removed_since_it_was_shown_is_not_pressed() {
    let (standin, client, screen) = confirmation().await;
    client
        .call(
            "editMessageReplyMarkup",
            &json!({"chat_id": OWNER_ID, "message_id": 1}),
        )
        .await
        .unwrap();
    let Typed::Press(slot) = press::read("1", &screen) else {
        panic!("the screen has not seen the edit yet");
    };
    let note = pressed(&standin, 8, &slot).unwrap_err();
    assert_eq!(note, "(the button \"Run\" is no longer there)");
    assert!(standin.unanswered_callbacks().is_empty());
}

#[tokio::test]
async fn a_press_reaches_the_server_through_the_real_webhook() {
    let token = format!("1000000001:SANDBOX{}", super::unique(32));
    let sandbox = super::Sandbox::start(token.clone(), super::unique(32), None, None)
        .await
        .unwrap();
    // The bot's side of a confirmation, as the relay will send it.
    let client = BotClient::new(&sandbox.standin.url(), &Secret::new(&token)).unwrap();
    let keyboard = json!({"inline_keyboard": [[{"text": "Run", "callback_data": "c:run:1"}]]});
    let params = json!({"chat_id": OWNER_ID, "text": "Run /disk?", "reply_markup": keyboard});
    client.call("sendMessage", &params).await.unwrap();
    let mut screen = Screen::new(OWNER_ID);
    for call in sandbox.standin.calls() {
        screen.show(&call);
    }
    let Typed::Press(slot) = press::read("1", &screen) else {
        panic!("1 names the Run button");
    };
    let update = pressed(&sandbox.standin, 1, &slot).unwrap();
    assert!(sandbox.webhook.post(&update).await.unwrap(), "accepted");
    super::updates::wait_until_handled(&sandbox.running, 1).await;
    let status = crate::store::inbox::status(sandbox.running.db(), 1)
        .await
        .unwrap();
    assert!(
        status.is_some_and(|s| s != "pending"),
        "the update was stored and handled"
    );
    sandbox.running.shutdown().await;
}

#[tokio::test]
async fn edits_are_shown_as_they_are_made_without_waiting_for_a_line() {
    let standin = std::sync::Arc::new(StandIn::start(TOKEN, "a_bot").await.unwrap());
    standin.set_limits(None);
    let client = BotClient::new(&standin.url(), &Secret::new(TOKEN)).unwrap();
    let screen = std::sync::Arc::new(std::sync::Mutex::new(Screen::new(OWNER_ID)));
    let (tx, mut printed) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(super::printer::print_calls(
        standin.clone(),
        screen,
        move |lines| {
            let _ = tx.send(lines);
        },
    ));
    let mut next = async || {
        tokio::time::timeout(std::time::Duration::from_secs(10), printed.recv())
            .await
            .expect("printed in time")
            .unwrap()
    };
    let params = json!({"chat_id": OWNER_ID, "text": "⏳ /count — running"});
    client.call("sendMessage", &params).await.unwrap();
    assert_eq!(next().await, ["bot> ⏳ /count — running"]);
    for seconds in [2, 4] {
        let text = format!("⏳ /count — running, {seconds} s");
        let params = json!({"chat_id": OWNER_ID, "message_id": 1, "text": text});
        client.call("editMessageText", &params).await.unwrap();
        assert_eq!(
            next().await,
            [format!("bot (edited {})> {text}", seconds / 2)]
        );
    }
    printer.abort();
}

#[tokio::test]
async fn a_number_typed_before_its_keyboard_was_printed_presses_that_button() {
    let token = format!("1000000001:SANDBOX{}", super::unique(32));
    let sandbox = super::Sandbox::start(token.clone(), super::unique(32), None, None)
        .await
        .unwrap();
    let client = BotClient::new(&sandbox.standin.url(), &Secret::new(&token)).unwrap();
    let keyboard = json!({"inline_keyboard": [[{"text": "Run", "callback_data": "c:run:2"}]]});
    let params = json!({"chat_id": OWNER_ID, "text": "Run /disk?", "reply_markup": keyboard});
    client.call("sendMessage", &params).await.unwrap();
    // No printer has shown it yet, as when lines are piped in.
    let screen = std::sync::Mutex::new(Screen::new(OWNER_ID));
    let printed = std::sync::Mutex::new(Vec::new());
    let emit = |lines: Vec<String>| printed.lock().unwrap().extend(lines);
    let update = sandbox
        .update_for("1", 3, &screen, &emit)
        .await
        .expect("1 names the Run button");
    assert_eq!(update["callback_query"]["data"], "c:run:2");
    assert_eq!(
        *printed.lock().unwrap(),
        ["bot> Run /disk?", "   [1] Run"],
        "shown before it is pressed"
    );
    let message = sandbox
        .update_for("hello", 4, &screen, &emit)
        .await
        .unwrap();
    assert_eq!(message["message"]["text"], "hello");
    sandbox.running.shutdown().await;
}
