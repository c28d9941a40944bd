//! Buttons pressed: the callback_query updates the stand-in makes for a
//! button of a message it keeps, and answerCallbackQuery, which must answer
//! each of them.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{State, lock, messages::Answer};

/// Telegram's limit on an answer's text, in characters.
const MAX_ANSWER_CHARS: usize = 200;

/// The callback queries made by presses and not yet answered.
#[derive(Default)]
pub(super) struct Callbacks {
    made: u64,
    unanswered: BTreeSet<String>,
}

/// The callback_query update for the `nth` button (counted row by row) of
/// the message, pressed by `from`; `None` when there is no such message or
/// the button carries no callback_data.
pub(super) fn press(
    state: &State,
    update_id: i64,
    (chat_id, message_id): (i64, i64),
    from: &Value,
    nth: usize,
) -> Option<Value> {
    let message = lock(&state.chats).get(chat_id, message_id)?.clone();
    let data = message.buttons().into_iter().nth(nth)?.callback_data?;
    let id = {
        let mut callbacks = lock(&state.callbacks);
        callbacks.made += 1;
        // Telegram's ids are long decimal strings.
        let id = format!("{}", 4_000_000_000_000_000_000u64 + callbacks.made);
        callbacks.unanswered.insert(id.clone());
        id
    };
    Some(json!({
        "update_id": update_id,
        "callback_query": {
            "id": id,
            "from": from,
            "message": message.to_json(&state.bot_user()),
            "chat_instance": format!("{}", 9_000_000_000_000i64 + chat_id),
            "data": data,
        }
    }))
}

pub(super) fn unanswered(state: &State) -> Vec<String> {
    lock(&state.callbacks).unanswered.iter().cloned().collect()
}

pub(super) fn answer_callback_query(state: &State, params: &Value) -> Answer {
    let id = params["callback_query_id"].as_str().unwrap_or_default();
    if id.is_empty() {
        return Err(
            "Bad Request: query is too old and response timeout expired or query ID is invalid"
                .to_owned(),
        );
    }
    let text = params["text"].as_str().unwrap_or_default();
    if text.chars().count() > MAX_ANSWER_CHARS {
        return Err("Bad Request: MESSAGE_TOO_LONG".to_owned());
    }
    lock(&state.callbacks).unanswered.remove(id);
    Ok(json!(true))
}
