//! What the terminal shows of the bot's calls to the stand-in: messages
//! (HTML shown as the person sees it), their edits as they happen, documents
//! and their first lines, toasts, and inline keyboards as numbered buttons.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::standin::Call;

/// Lines of a document shown under it.
const DOCUMENT_LINES: usize = 5;

/// A button shown with a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub chat_id: i64,
    pub message_id: i64,
    /// Its place in the message's keyboard, row by row, from 0.
    pub nth: usize,
    pub text: String,
}

/// The state of the terminal: which buttons carry which numbers, how often
/// each message was edited, and how many calls were shown.
#[derive(Debug)]
pub struct Screen {
    /// The chat whose messages are shown without naming it.
    own_chat: i64,
    numbers: BTreeMap<u32, Slot>,
    edits: HashMap<(i64, i64), u32>,
    /// How many of the stand-in's calls have been shown.
    pub seen: usize,
}

impl Screen {
    pub fn new(own_chat: i64) -> Self {
        Self {
            own_chat,
            numbers: BTreeMap::new(),
            edits: HashMap::new(),
            seen: 0,
        }
    }

    /// The lines that show `call` (none for calls the person would not see).
    pub fn show(&mut self, call: &Call) -> Vec<String> {
        self.seen += 1;
        let result = &call.result;
        if call.status != 200 {
            return Vec::new();
        }
        match call.method.as_str() {
            "sendMessage" => {
                let mut lines = vec![format!("{}{}", self.prefix(result, None), text(result))];
                lines.extend(self.keyboard(result));
                lines
            }
            "editMessageText" | "editMessageReplyMarkup" => self.edited(result),
            "sendDocument" => self.document(result, &call.params["document"]["content"]),
            "answerCallbackQuery" => toast(&call.params).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// The button numbered `number`, if one is shown.
    pub fn button(&self, number: u32) -> Option<&Slot> {
        self.numbers.get(&number)
    }

    /// The numbers of the buttons shown, lowest first.
    pub fn numbers(&self) -> Vec<u32> {
        self.numbers.keys().copied().collect()
    }

    fn edited(&mut self, message: &Value) -> Vec<String> {
        let key = ids(message);
        let count = self.edits.entry(key).or_default();
        *count += 1;
        let count = *count;
        let had_buttons = self
            .numbers
            .values()
            .any(|s| (s.chat_id, s.message_id) == key);
        let mut lines = vec![format!(
            "{}{}",
            self.prefix(message, Some(count)),
            text(message)
        )];
        let buttons = self.keyboard(message);
        if buttons.is_empty() && had_buttons {
            lines.push("   (its buttons are gone)".to_owned());
        }
        lines.extend(buttons);
        lines
    }

    fn document(&mut self, message: &Value, content: &Value) -> Vec<String> {
        let document = &message["document"];
        let mut lines = vec![format!(
            "{}[document {}, {} bytes]",
            self.prefix(message, None),
            document["file_name"].as_str().unwrap_or("?"),
            document["file_size"].as_u64().unwrap_or(0)
        )];
        if let Some(caption) = message["caption"].as_str() {
            lines.push(format!("   {caption}"));
        }
        let content = content.as_str().unwrap_or_default();
        let total = content.lines().count();
        lines.extend(
            content
                .lines()
                .take(DOCUMENT_LINES)
                .map(|line| format!("   | {line}")),
        );
        if total > DOCUMENT_LINES {
            lines.push(format!("   | ... ({} more lines)", total - DOCUMENT_LINES));
        }
        lines.extend(self.keyboard(message));
        lines
    }

    /// `bot> `, `bot (edited 2)> `, and the chat when it is not our own.
    fn prefix(&self, message: &Value, edit: Option<u32>) -> String {
        let chat = message["chat"]["id"].as_i64().unwrap_or_default();
        let mut notes = Vec::new();
        if chat != self.own_chat {
            notes.push(format!("to chat {chat}"));
        }
        if let Some(count) = edit {
            notes.push(format!("edited {count}"));
        }
        match notes.is_empty() {
            true => "bot> ".to_owned(),
            false => format!("bot ({})> ", notes.join(", ")),
        }
    }

    /// Numbers the message's buttons and shows each row on a line:
    /// `   [1] Run   [2] Cancel`. An edit that keeps the same buttons keeps
    /// their numbers; new buttons are numbered after those still shown.
    fn keyboard(&mut self, message: &Value) -> Vec<String> {
        let key = ids(message);
        let before: Vec<(u32, String)> = self
            .numbers
            .iter()
            .filter(|(_, s)| (s.chat_id, s.message_id) == key)
            .map(|(n, s)| (*n, s.text.clone()))
            .collect();
        self.forget(key);
        let rows: Vec<&Vec<Value>> = message["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .collect();
        let labels: Vec<&str> = rows
            .iter()
            .copied()
            .flatten()
            .map(|b| b["text"].as_str().unwrap_or_default())
            .collect();
        let same = !before.is_empty()
            && before
                .iter()
                .map(|(_, t)| t.as_str())
                .eq(labels.iter().copied());
        let mut next = self.numbers.keys().next_back().map_or(1, |n| n + 1);
        let mut nth = 0;
        let mut lines = Vec::new();
        for row in rows {
            let mut line = String::new();
            for button in row {
                let label = labels[nth];
                let number = if same {
                    before[nth].0
                } else {
                    next += 1;
                    next - 1
                };
                line.push_str(&format!("   [{number}] {label}"));
                if let Some(url) = button["url"].as_str() {
                    line.push_str(&format!(" ({url})"));
                }
                let slot = Slot {
                    chat_id: key.0,
                    message_id: key.1,
                    nth,
                    text: label.to_owned(),
                };
                self.numbers.insert(number, slot);
                nth += 1;
            }
            lines.push(line);
        }
        lines
    }

    /// Drops the numbers of the message's buttons; whether it had any.
    fn forget(&mut self, key: (i64, i64)) -> bool {
        let before = self.numbers.len();
        self.numbers.retain(|_, s| (s.chat_id, s.message_id) != key);
        self.numbers.len() != before
    }
}

/// The text as the person sees it (the stand-in answers with the text
/// without its HTML tags, entities decoded, as Telegram does).
fn text(message: &Value) -> String {
    message["text"].as_str().unwrap_or_default().to_owned()
}

fn ids(message: &Value) -> (i64, i64) {
    (
        message["chat"]["id"].as_i64().unwrap_or_default(),
        message["message_id"].as_i64().unwrap_or_default(),
    )
}

/// An answer to a button press with a text: a toast, or an alert.
fn toast(params: &Value) -> Option<String> {
    let text = params["text"].as_str().filter(|t| !t.is_empty())?;
    let kind = if params["show_alert"] == true {
        "alert"
    } else {
        "toast"
    };
    Some(format!("bot ({kind})> {text}"))
}

#[cfg(test)]
mod tests;
