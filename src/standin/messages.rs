//! The methods that send and edit messages, checked like the Bot API checks
//! them; every message sent is kept (see [`super::sent`]) so that it can be
//! edited, pressed and looked at.

use serde_json::Value;

use super::{
    State, html, lock,
    sent::{Document, SentMessage, inline_keyboard},
};

/// Telegram's limit on a message text, in UTF-16 code units.
const MAX_TEXT_UTF16: usize = 4096;
/// Telegram's limit on a document's caption, in UTF-16 code units.
const MAX_CAPTION_UTF16: usize = 1024;

/// The Bot API's answer to an edit that changes nothing.
pub const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a specified content and reply markup of the current message";
const NOT_FOUND: &str = "Bad Request: message to edit not found";

/// A method's result, or the description of its 400 answer.
pub(super) type Answer = Result<Value, String>;

pub(super) fn send_message(state: &State, params: &Value) -> Answer {
    let chat_id = chat_id(params)?;
    let text = params["text"].as_str().unwrap_or_default();
    let parse_mode = parse_mode(params);
    let (shown, entities) = format(text, parse_mode.as_deref())?;
    check_text(&shown, MAX_TEXT_UTF16)?;
    let reply_markup = inline_keyboard(&params["reply_markup"])?;
    let mut chats = lock(&state.chats);
    let message = SentMessage {
        chat_id,
        message_id: chats.next_id(chat_id),
        text: text.to_owned(),
        parse_mode,
        shown,
        entities,
        reply_markup,
        document: None,
        date: unix_now(),
        edit_date: None,
        edits: 0,
    };
    let result = message.to_json(&state.bot_user());
    chats.keep(message);
    Ok(result)
}

/// A document uploaded in the form (a file id or URL is not stored here).
pub(super) fn send_document(state: &State, params: &Value) -> Answer {
    let chat_id = chat_id(params)?;
    let upload = &params["document"];
    let Some(file_name) = upload["file_name"].as_str() else {
        return Err("Bad Request: there is no document in the request".to_owned());
    };
    let content = upload["content"].as_str().unwrap_or_default();
    let caption = params["caption"].as_str().unwrap_or_default();
    let parse_mode = parse_mode(params);
    let (shown, entities) = format(caption, parse_mode.as_deref())?;
    if shown.encode_utf16().count() > MAX_CAPTION_UTF16 {
        return Err("Bad Request: message caption is too long".to_owned());
    }
    let reply_markup = inline_keyboard(&params["reply_markup"])?;
    let mut chats = lock(&state.chats);
    let message = SentMessage {
        chat_id,
        message_id: chats.next_id(chat_id),
        text: caption.to_owned(),
        parse_mode,
        shown,
        entities,
        reply_markup,
        document: Some(Document {
            file_name: file_name.to_owned(),
            size: upload["size"]
                .as_u64()
                .map_or(content.len(), |n| n as usize),
            content: content.to_owned(),
        }),
        date: unix_now(),
        edit_date: None,
        edits: 0,
    };
    let result = message.to_json(&state.bot_user());
    chats.keep(message);
    Ok(result)
}

/// editMessageText: a new text (and keyboard: absent removes it).
pub(super) fn edit_message_text(state: &State, params: &Value) -> Answer {
    let (chat_id, message_id) = target(params)?;
    let text = params["text"].as_str().unwrap_or_default();
    let parse_mode = parse_mode(params);
    let (shown, entities) = format(text, parse_mode.as_deref())?;
    check_text(&shown, MAX_TEXT_UTF16)?;
    let reply_markup = inline_keyboard(&params["reply_markup"])?;
    let mut chats = lock(&state.chats);
    let message = chats
        .get_mut(chat_id, message_id)
        .ok_or_else(|| NOT_FOUND.to_owned())?;
    if message.document.is_some() {
        return Err("Bad Request: there is no text in the message to edit".to_owned());
    }
    if message.shown == shown
        && message.entities == entities
        && message.reply_markup == reply_markup
    {
        return Err(NOT_MODIFIED.to_owned());
    }
    message.text = text.to_owned();
    message.parse_mode = parse_mode;
    message.shown = shown;
    message.entities = entities;
    message.reply_markup = reply_markup;
    Ok(edited(state, message))
}

/// editMessageReplyMarkup: a new keyboard (absent removes it).
pub(super) fn edit_message_reply_markup(state: &State, params: &Value) -> Answer {
    let (chat_id, message_id) = target(params)?;
    let reply_markup = inline_keyboard(&params["reply_markup"])?;
    let mut chats = lock(&state.chats);
    let message = chats
        .get_mut(chat_id, message_id)
        .ok_or_else(|| NOT_FOUND.to_owned())?;
    if message.reply_markup == reply_markup {
        return Err(NOT_MODIFIED.to_owned());
    }
    message.reply_markup = reply_markup;
    Ok(edited(state, message))
}

fn edited(state: &State, message: &mut SentMessage) -> Value {
    message.edits += 1;
    message.edit_date = Some(unix_now());
    message.to_json(&state.bot_user())
}

fn chat_id(params: &Value) -> Result<i64, String> {
    params["chat_id"]
        .as_i64()
        .ok_or_else(|| "Bad Request: chat not found".to_owned())
}

/// The chat and message an edit names.
fn target(params: &Value) -> Result<(i64, i64), String> {
    let chat_id = chat_id(params)?;
    let message_id = params["message_id"]
        .as_i64()
        .ok_or_else(|| "Bad Request: message identifier is not specified".to_owned())?;
    Ok((chat_id, message_id))
}

fn parse_mode(params: &Value) -> Option<String> {
    params["parse_mode"]
        .as_str()
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
}

/// What the person sees of `text`, and its entities.
fn format(text: &str, parse_mode: Option<&str>) -> Result<(String, Vec<Value>), String> {
    match parse_mode {
        None => Ok((text.to_owned(), Vec::new())),
        Some(mode) if mode.eq_ignore_ascii_case("html") => html::parse(text)
            .map(|p| (p.text, p.entities))
            .map_err(|e| format!("Bad Request: can't parse entities: {e}")),
        // Markdown is not read by the stand-in: shown as written.
        Some(mode) if mode.eq_ignore_ascii_case("markdown") || mode == "MarkdownV2" => {
            Ok((text.to_owned(), Vec::new()))
        }
        Some(mode) => Err(format!("Bad Request: unsupported parse_mode \"{mode}\"")),
    }
}

fn check_text(shown: &str, max_utf16: usize) -> Result<(), String> {
    if shown.trim().is_empty() {
        return Err("Bad Request: message text is empty".to_owned());
    }
    if shown.encode_utf16().count() > max_utf16 {
        return Err("Bad Request: message is too long".to_owned());
    }
    Ok(())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
