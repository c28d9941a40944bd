//! Whether the sender typed a message themselves. Commands, passcodes and
//! /auth codes are taken only from such messages: a forwarded message, an
//! inline bot's result or a post made on behalf of a chat carries someone
//! else's words, and running them would let that someone act as the sender
//! (an owner forwarding `/allow 666 owner` would make 666 an owner).

use frankenstein::types::Message;

/// Why the text of `message` is not the sender's own, if it is not.
pub fn not_typed(message: &Message) -> Option<&'static str> {
    if message.forward_origin.is_some() {
        return Some("forwarded");
    }
    if message.is_automatic_forward == Some(true) {
        return Some("an automatic forward from a channel");
    }
    if message.via_bot.is_some() {
        return Some("sent via an inline bot");
    }
    if message.sender_chat.is_some() {
        return Some("sent on behalf of a chat");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(extra: serde_json::Value) -> Message {
        let mut m = json!({
            "message_id": 1,
            "from": {"id": 7, "is_bot": false, "first_name": "A"},
            "chat": {"id": 7, "type": "private", "first_name": "A"},
            "date": 1_700_000_000,
            "text": "/allow 666 owner",
        });
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        serde_json::from_value(m).unwrap()
    }

    #[test]
    fn a_typed_message_is_the_senders_own() {
        assert_eq!(not_typed(&message(json!({}))), None);
        // A quote of another message is not part of the text.
        let quoted = message(json!({"quote": {"text": "/allow 666 owner", "position": 0}}));
        assert_eq!(not_typed(&quoted), None);
    }

    #[test]
    fn forwards_inline_results_and_chat_posts_are_not() {
        let forwarded =
            json!({"forward_origin": {"type": "hidden_user", "date": 1, "sender_user_name": "X"}});
        let via = json!({"via_bot": {"id": 9, "is_bot": true, "first_name": "B"}});
        let automatic = json!({"is_automatic_forward": true});
        let chat =
            json!({"sender_chat": {"id": -1_001_000_000_001_i64, "type": "channel", "title": "C"}});
        assert_eq!(not_typed(&message(forwarded)), Some("forwarded"));
        assert_eq!(not_typed(&message(via)), Some("sent via an inline bot"));
        assert_eq!(
            not_typed(&message(automatic)),
            Some("an automatic forward from a channel")
        );
        assert_eq!(not_typed(&message(chat)), Some("sent on behalf of a chat"));
    }
}
