//! Building the calls a decision causes.

use serde_json::json;

use super::{Handled, context::Context, context_entry, effect::Effect};
use crate::{
    store::{audit::Decision, outbox::NewCall},
    telegram::compose::{DEFAULT_MAX_PARTS, text_calls},
};

/// One text reply in the update's chat.
pub fn one(ctx: &Context, command: Option<&str>, outcome: &str, text: &str) -> Handled {
    let calls = ctx
        .chat_id()
        .map(|chat_id| text_calls(chat_id, text, &json!({}), DEFAULT_MAX_PARTS))
        .unwrap_or_default();
    Handled {
        calls,
        ..Handled::new(context_entry(ctx, command, Decision::Allowed, outcome))
    }
}

/// A command refused, with the reason in the chat.
pub fn refused(ctx: &Context, command: &str, outcome: &str, text: &str) -> Handled {
    let mut handled = one(ctx, Some(command), outcome, text);
    handled.entry.decision = Decision::Refused;
    handled
}

/// A reply with a decision and the changes it makes.
pub fn answer(
    ctx: &Context,
    decision: Decision,
    outcome: &str,
    text: &str,
    effects: Vec<Effect>,
) -> Handled {
    let mut handled = one(ctx, None, outcome, text);
    handled.entry.decision = decision;
    handled.effects = effects;
    handled
}

/// Leaving a chat the bot may not be in.
pub fn leave(ctx: &Context, chat_id: i64) -> Handled {
    Handled {
        calls: vec![NewCall::new(
            chat_id,
            "leaveChat",
            json!({ "chat_id": chat_id }),
        )],
        ..Handled::new(context_entry(ctx, None, Decision::Refused, "left the chat"))
    }
}

pub fn send_message(chat_id: i64, text: &str) -> NewCall {
    NewCall::new(
        chat_id,
        "sendMessage",
        json!({ "chat_id": chat_id, "text": text }),
    )
}

/// Deleting a message that held a secret.
pub fn delete_message(chat_id: i64, message_id: i32) -> NewCall {
    NewCall::new(
        chat_id,
        "deleteMessage",
        json!({ "chat_id": chat_id, "message_id": message_id }),
    )
}
