//! The messages the bot sent, as the stand-in keeps them so that they can be
//! edited, pressed and looked at: per chat, in message_id order.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

/// A message the bot sent, as it is now (after any edits).
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub chat_id: i64,
    pub message_id: i64,
    /// The text as the bot sent it (with its markup), or a document's
    /// caption (empty when none).
    pub text: String,
    /// `None`: plain text.
    pub parse_mode: Option<String>,
    /// What the person sees: tags removed, entities decoded.
    pub shown: String,
    /// The formatting of `shown` (Bot API `MessageEntity` objects).
    pub entities: Vec<Value>,
    /// The inline keyboard (`{"inline_keyboard": [[button, ..], ..]}`);
    /// `None` when it has none or it was removed.
    pub reply_markup: Option<Value>,
    pub document: Option<Document>,
    /// Unix seconds.
    pub date: u64,
    /// Unix seconds of the last edit.
    pub edit_date: Option<u64>,
    /// How many times it was edited (text or keyboard).
    pub edits: u32,
}

/// A document sent with sendDocument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub file_name: String,
    /// Its size in bytes.
    pub size: usize,
    /// Its content (invalid UTF-8 replaced).
    pub content: String,
}

/// One button of an inline keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub text: String,
    pub callback_data: Option<String>,
    pub url: Option<String>,
}

impl SentMessage {
    /// The buttons of its inline keyboard, row by row, left to right.
    pub fn buttons(&self) -> Vec<Button> {
        let rows = self
            .reply_markup
            .as_ref()
            .and_then(|m| m["inline_keyboard"].as_array());
        rows.into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .map(|b| Button {
                text: b["text"].as_str().unwrap_or_default().to_owned(),
                callback_data: b["callback_data"].as_str().map(str::to_owned),
                url: b["url"].as_str().map(str::to_owned),
            })
            .collect()
    }

    /// The Bot API `Message` object, as the methods answer with it and as a
    /// callback_query carries it. `from` is the bot.
    pub(super) fn to_json(&self, from: &Value) -> Value {
        let chat_type = if self.chat_id > 0 {
            "private"
        } else {
            "supergroup"
        };
        let mut message = json!({
            "message_id": self.message_id,
            "from": from,
            "chat": {"id": self.chat_id, "type": chat_type},
            "date": self.date,
        });
        match &self.document {
            Some(document) => {
                message["document"] = json!({
                    "file_name": document.file_name,
                    "file_id": format!("doc-{}-{}", self.chat_id, self.message_id),
                    "file_unique_id": format!("u{}", self.message_id),
                    "file_size": document.size,
                });
                if !self.shown.is_empty() {
                    message["caption"] = json!(self.shown);
                }
            }
            None => message["text"] = json!(self.shown),
        }
        if !self.entities.is_empty() {
            let key = if self.document.is_some() {
                "caption_entities"
            } else {
                "entities"
            };
            message[key] = json!(self.entities);
        }
        if let Some(markup) = &self.reply_markup {
            message["reply_markup"] = markup.clone();
        }
        if let Some(edit_date) = self.edit_date {
            message["edit_date"] = json!(edit_date);
        }
        message
    }
}

/// Every chat's messages.
#[derive(Default)]
pub(super) struct Chats {
    chats: HashMap<i64, Chat>,
}

#[derive(Default)]
struct Chat {
    last_id: i64,
    messages: BTreeMap<i64, SentMessage>,
}

impl Chats {
    /// The id the chat's next message gets.
    pub(super) fn next_id(&mut self, chat_id: i64) -> i64 {
        let chat = self.chats.entry(chat_id).or_default();
        chat.last_id += 1;
        chat.last_id
    }

    pub(super) fn keep(&mut self, message: SentMessage) {
        let chat = self.chats.entry(message.chat_id).or_default();
        chat.messages.insert(message.message_id, message);
    }

    pub(super) fn get(&self, chat_id: i64, message_id: i64) -> Option<&SentMessage> {
        self.chats.get(&chat_id)?.messages.get(&message_id)
    }

    pub(super) fn get_mut(&mut self, chat_id: i64, message_id: i64) -> Option<&mut SentMessage> {
        self.chats.get_mut(&chat_id)?.messages.get_mut(&message_id)
    }

    pub(super) fn all(&self, chat_id: i64) -> Vec<SentMessage> {
        self.chats
            .get(&chat_id)
            .map(|c| c.messages.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// Telegram's limit on a button's callback_data, in bytes.
pub const MAX_CALLBACK_DATA: usize = 64;

/// A reply_markup parameter, checked like the Bot API checks it: the inline
/// keyboard it sets (`None`: none, or an empty one, which removes it).
/// Other kinds of markup (reply keyboards) are accepted and not kept.
pub(super) fn inline_keyboard(markup: &Value) -> Result<Option<Value>, String> {
    let parsed;
    let markup = match markup {
        Value::Null => return Ok(None),
        // Sent as a JSON-serialized string (always so in a multipart form).
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).map_err(|_| {
                "Bad Request: can't parse reply keyboard markup JSON object".to_owned()
            })?;
            &parsed
        }
        other => other,
    };
    let Some(keyboard) = markup.get("inline_keyboard") else {
        return Ok(None);
    };
    let Some(rows) = keyboard.as_array() else {
        return Err("Bad Request: field \"inline_keyboard\" must be an Array".to_owned());
    };
    let mut kept = Vec::new();
    for row in rows {
        let Some(buttons) = row.as_array() else {
            return Err(
                "Bad Request: field \"inline_keyboard\" must be an Array of Arrays".to_owned(),
            );
        };
        for button in buttons {
            check_button(button)?;
        }
        if !buttons.is_empty() {
            kept.push(row.clone());
        }
    }
    Ok((!kept.is_empty()).then(|| json!({ "inline_keyboard": kept })))
}

fn check_button(button: &Value) -> Result<(), String> {
    if button["text"].as_str().is_none_or(|t| t.trim().is_empty()) {
        return Err("Bad Request: inline keyboard button text is empty".to_owned());
    }
    match (&button["callback_data"], &button["url"]) {
        (Value::String(data), _) if data.is_empty() || data.len() > MAX_CALLBACK_DATA => {
            Err("Bad Request: BUTTON_DATA_INVALID".to_owned())
        }
        (Value::String(_), _) | (_, Value::String(_)) => Ok(()),
        _ => Err("Bad Request: text buttons are unallowed in the inline keyboard".to_owned()),
    }
}
