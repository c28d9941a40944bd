//! A job's status message: what it shows while the command runs and after,
//! and the document that carries output too long for it.
//!
//! Output is always shown as preformatted, HTML-escaped text: whatever a
//! command prints, it cannot format the message, add links or buttons.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    store::outbox::NewCall,
    telegram::compose::{DOCUMENT_NAME, DOCUMENT_TEXT},
    timefmt::span,
};

/// The most output (in characters, before escaping) a status message shows;
/// the message stays well within Telegram's 4096 characters.
pub const MESSAGE_OUTPUT_MAX: usize = 3000;

/// How a status message is headed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    Interrupted,
    NotStarted,
}

impl Phase {
    fn icon(self) -> &'static str {
        match self {
            Self::Running => "⏳",
            Self::Succeeded => "✅",
            Self::Failed | Self::NotStarted => "❌",
            Self::TimedOut => "⏱",
            Self::Cancelled => "✖️",
            Self::Interrupted => "⚠️",
        }
    }
}

/// Escapes text for an HTML-formatted message.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The last `max` characters of `text`, starting at a line when one starts
/// within them.
pub fn tail(text: &str, max: usize) -> &str {
    let count = text.chars().count();
    if count <= max {
        return text;
    }
    let start = text.char_indices().nth(count - max).map_or(0, |(at, _)| at);
    let cut = &text[start..];
    match cut.find('\n') {
        Some(line) if line + 1 < cut.len() => &cut[line + 1..],
        _ => cut,
    }
}

/// The message text: a headline, then the output's tail, if any.
pub fn text(phase: Phase, shown: &str, detail: &str, output: &str, note: &str) -> String {
    let mut text = format!("{} {} — {}", phase.icon(), escape(shown), escape(detail));
    let shown_output = tail(output, MESSAGE_OUTPUT_MAX).trim_end();
    if !shown_output.is_empty() {
        text.push_str(&format!("\n<pre>{}</pre>", escape(shown_output)));
    }
    if !note.is_empty() {
        text.push('\n');
        text.push_str(&escape(note));
    }
    text
}

/// "running, 12 s".
pub fn running(elapsed: Duration) -> String {
    format!("running, {}", span(millis(elapsed)))
}

/// A duration in milliseconds, for [`span`].
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An inline keyboard of one row.
pub fn keyboard(buttons: &[(&str, &str)]) -> Value {
    let row: Vec<Value> = buttons
        .iter()
        .map(|(label, data)| json!({ "text": label, "callback_data": data }))
        .collect();
    json!({ "inline_keyboard": [row] })
}

/// The first status message, sent with the job.
pub fn send(chat: i64, text: &str, markup: Option<Value>) -> NewCall {
    let mut params = json!({ "chat_id": chat, "text": text, "parse_mode": "HTML" });
    if let Some(markup) = markup {
        params["reply_markup"] = markup;
    }
    NewCall::new(chat, "sendMessage", params)
}

/// An edit of the status message sent by call `of`; without `markup` its
/// buttons are removed.
pub fn edit(chat: i64, of: i64, text: &str, markup: Option<Value>) -> NewCall {
    let mut params = json!({ "chat_id": chat, "text": text, "parse_mode": "HTML" });
    if let Some(markup) = markup {
        params["reply_markup"] = markup;
    }
    NewCall::edit(chat, "editMessageText", params, of)
}

/// The whole output as a .txt document.
pub fn document(chat: i64, name: &str, job: i64, output: &str, caption: &str) -> NewCall {
    NewCall::new(
        chat,
        "sendDocument",
        json!({
            "chat_id": chat,
            DOCUMENT_TEXT: output,
            DOCUMENT_NAME: format!("{name}-{job}.txt"),
            "caption": caption,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_cannot_format_the_message() {
        let shown = text(
            Phase::Succeeded,
            "/x",
            "exit code 0",
            "<a href=\"https://evil\">click</a> & <b>",
            "",
        );
        assert!(
            shown
                .contains("&lt;a href=&quot;https://evil&quot;&gt;click&lt;/a&gt; &amp; &lt;b&gt;")
        );
        assert_eq!(shown.matches("<pre>").count(), 1);
        assert_eq!(shown.matches('<').count(), 2, "{shown}");
    }

    #[test]
    fn the_tail_starts_at_a_line_and_keeps_the_end() {
        let output: String = (1..=2000).map(|n| format!("line {n}\n")).collect();
        let cut = tail(&output, 100);
        assert!(cut.starts_with("line "), "{cut}");
        assert!(cut.ends_with("line 2000\n"));
        assert!(cut.chars().count() <= 100);
        assert_eq!(tail("short", 100), "short");
    }

    #[test]
    fn the_tail_of_multibyte_text_cuts_between_characters() {
        let output = "ä".repeat(5000);
        assert_eq!(tail(&output, 10).chars().count(), 10);
    }
}
