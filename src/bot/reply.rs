//! Building the calls a decision causes.

use serde_json::json;

use super::{Handled, context::Context, context_entry};
use crate::store::{audit::Decision, inbox::Finish, outbox::NewCall};

/// One text reply in the update's chat.
pub fn one(ctx: &Context, command: Option<&str>, outcome: &str, text: &str) -> Handled {
    let calls = ctx
        .chat_id()
        .map(|chat_id| NewCall {
            chat_id,
            method: "sendMessage",
            params: json!({ "chat_id": chat_id, "text": text }),
        })
        .into_iter()
        .collect();
    Handled {
        entry: context_entry(ctx, command, Decision::Allowed, outcome),
        calls,
        finish: Finish::Done,
        effects: Vec::new(),
        scrub: false,
    }
}

/// Leaving a chat the bot may not be in.
pub fn leave(ctx: &Context, chat_id: i64) -> Handled {
    Handled {
        entry: context_entry(ctx, None, Decision::Refused, "left the chat"),
        calls: vec![NewCall {
            chat_id,
            method: "leaveChat",
            params: json!({ "chat_id": chat_id }),
        }],
        finish: Finish::Done,
        effects: Vec::new(),
        scrub: false,
    }
}
