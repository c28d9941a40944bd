//! Update payloads as Telegram sends them.

use serde_json::{Value, json};

/// A private message from `user` (its chat has the same id).
pub fn private_text(update_id: i64, user: i64, text: &str) -> Value {
    message(
        update_id,
        user,
        json!({"id": user, "type": "private", "first_name": "Someone"}),
        text,
    )
}

/// A message from `user` in the group `chat`.
pub fn group_text(update_id: i64, chat: i64, user: i64, text: &str) -> Value {
    message(
        update_id,
        user,
        json!({"id": chat, "type": "supergroup", "title": "A group"}),
        text,
    )
}

fn message(update_id: i64, user: i64, chat: Value, text: &str) -> Value {
    let mut message = json!({
        "message_id": update_id,
        "from": {"id": user, "is_bot": false, "first_name": "Someone"},
        "chat": chat,
        "date": 1_700_000_000,
        "text": text,
    });
    if text.starts_with('/') {
        let length = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .encode_utf16()
            .count();
        message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
    }
    json!({"update_id": update_id, "message": message})
}

/// The bot was added to the group `chat` by `user`.
pub fn bot_added_to_group(update_id: i64, chat: i64, user: i64) -> Value {
    json!({
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": chat, "type": "group", "title": "Somewhere"},
            "from": {"id": user, "is_bot": false, "first_name": "Someone"},
            "date": 1_700_000_000,
            "old_chat_member": {"user": {"id": 123456789, "is_bot": true, "first_name": "bot"}, "status": "left"},
            "new_chat_member": {"user": {"id": 123456789, "is_bot": true, "first_name": "bot"}, "status": "member"}
        }
    })
}

/// The real payloads in shared/telegram-bot-api/real-updates.jsonl.
pub fn real_updates() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/telegram-bot-api/real-updates.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("the real payloads are read from {path} (shared/ beside the repository): {e}")
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line")["update"].clone())
        .collect()
}
