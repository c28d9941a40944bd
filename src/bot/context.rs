//! What the handlers know about an update: its kind, chat and sender.

use frankenstein::{
    types::{Chat, ChatType, User},
    updates::{Update, UpdateContent},
};

/// The chat an update happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatRef {
    pub id: i64,
    pub kind: ChatType,
}

impl ChatRef {
    pub fn is_private(&self) -> bool {
        self.kind == ChatType::Private
    }
}

impl From<&Chat> for ChatRef {
    fn from(chat: &Chat) -> Self {
        Self {
            id: chat.id,
            kind: chat.type_field,
        }
    }
}

/// An update reduced to who and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub update_id: i64,
    pub kind: String,
    pub chat: Option<ChatRef>,
    pub user_id: Option<i64>,
}

impl Context {
    pub fn new(update_id: i64, kind: &str, update: &Update) -> Self {
        let (chat, user) = participants(&update.content);
        Self {
            update_id,
            kind: kind.to_owned(),
            chat: chat.map(ChatRef::from),
            user_id: user.and_then(|u| i64::try_from(u.id).ok()),
        }
    }

    pub fn chat_id(&self) -> Option<i64> {
        self.chat.map(|c| c.id)
    }
}

fn participants(content: &UpdateContent) -> (Option<&Chat>, Option<&User>) {
    use UpdateContent as U;
    match content {
        U::Message(m)
        | U::EditedMessage(m)
        | U::ChannelPost(m)
        | U::EditedChannelPost(m)
        | U::BusinessMessage(m)
        | U::EditedBusinessMessage(m) => (Some(&m.chat), m.from.as_deref()),
        U::MyChatMember(m) | U::ChatMember(m) => (Some(&m.chat), Some(&m.from)),
        U::ChatJoinRequest(r) => (Some(&r.chat), Some(&r.from)),
        U::MessageReaction(r) => (Some(&r.chat), r.user.as_ref()),
        U::MessageReactionCount(r) => (Some(&r.chat), None),
        U::InlineQuery(q) => (None, Some(&q.from)),
        U::ChosenInlineResult(r) => (None, Some(&r.from)),
        U::CallbackQuery(q) => (None, Some(&q.from)),
        U::ShippingQuery(q) => (None, Some(&q.from)),
        U::PreCheckoutQuery(q) => (None, Some(&q.from)),
        _ => (None, None),
    }
}
