//! Turning a text into the calls that deliver it: one message, several
//! (split where a reader expects a break), or, past `max_parts`, a .txt
//! document with the whole text.

use serde_json::{Value, json};

use super::split::{Delivery, MAX_MESSAGE_UTF16, plan_text};
use crate::store::outbox::NewCall;

/// Parts before a text goes as a document instead (LONG_MESSAGE_MAX_PARTS).
pub const DEFAULT_MAX_PARTS: usize = 4;

/// The parameter that carries a document's text in the outbox; the sender
/// uploads it as `message.txt`.
pub const DOCUMENT_TEXT: &str = "document_text";
/// The parameter that names that file (`message.txt` when absent).
pub const DOCUMENT_NAME: &str = "document_name";

/// The calls that deliver `text` to `chat_id`. `extra` parameters (such as
/// `disable_notification`) go with every call.
pub fn text_calls(chat_id: i64, text: &str, extra: &Value, max_parts: usize) -> Vec<NewCall> {
    match plan_text::<()>(text, &[], MAX_MESSAGE_UTF16, max_parts) {
        Delivery::Messages(parts) => parts
            .into_iter()
            .map(|part| call(chat_id, "sendMessage", json!({ "text": part.text }), extra))
            .collect(),
        Delivery::Document => vec![call(
            chat_id,
            "sendDocument",
            json!({
                DOCUMENT_TEXT: text,
                "caption": format!("Too long for {max_parts} messages: the whole text is in the file."),
            }),
            extra,
        )],
    }
}

fn call(chat_id: i64, method: &'static str, own: Value, extra: &Value) -> NewCall {
    let mut params = json!({ "chat_id": chat_id });
    for source in [extra, &own] {
        if let Value::Object(fields) = source {
            for (k, v) in fields {
                params[k] = v.clone();
            }
        }
    }
    NewCall::new(chat_id, method, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_one_message_with_the_extra_parameters() {
        let calls = text_calls(5, "hi", &json!({"disable_notification": true}), 4);
        assert_eq!(calls.len(), 1);
        assert_eq!(
            calls[0].params,
            json!({"chat_id": 5, "text": "hi", "disable_notification": true})
        );
    }

    #[test]
    fn a_long_text_is_split_and_a_very_long_one_becomes_a_document() {
        let paragraph = "word ".repeat(700); // 3500 units
        let three = [paragraph.as_str(); 3].join("\n\n");
        let calls = text_calls(5, &three, &json!({}), 4);
        assert_eq!(calls.len(), 3);
        assert!(calls.iter().all(|c| c.method == "sendMessage"));

        let nine = [paragraph.as_str(); 9].join("\n\n");
        let calls = text_calls(5, &nine, &json!({}), 4);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].method, "sendDocument");
        assert_eq!(calls[0].params[DOCUMENT_TEXT], nine.as_str());
    }
}
