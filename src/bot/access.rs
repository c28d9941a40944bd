//! Who may use the bot: the owner and ALLOWED_CHAT_IDS (user ids for private
//! chats, chat ids for groups and channels). Everyone else is refused.

use std::collections::HashSet;

use super::context::Context;

#[derive(Debug, Clone)]
pub struct Access {
    owner: i64,
    allowed: HashSet<i64>,
}

impl Access {
    pub fn new(owner: i64, allowed: &[i64]) -> Self {
        Self {
            owner,
            allowed: allowed.iter().copied().collect(),
        }
    }

    pub fn owner(&self) -> i64 {
        self.owner
    }

    /// ALLOWED_CHAT_IDS, sorted.
    pub fn allowed(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.allowed.iter().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Whether the id is the owner or in ALLOWED_CHAT_IDS.
    pub fn configured(&self, id: i64) -> bool {
        self.lists(id)
    }

    fn lists(&self, id: i64) -> bool {
        id == self.owner || self.allowed.contains(&id)
    }

    /// Whether the update's chat (or, without a chat, its sender) is allowed.
    pub fn permits(&self, ctx: &Context) -> bool {
        match (ctx.chat, ctx.user_id) {
            // A private chat's id is the user's id.
            (Some(chat), _) if chat.is_private() => self.lists(chat.id),
            (Some(chat), _) => self.allowed.contains(&chat.id),
            (None, Some(user)) => self.lists(user),
            (None, None) => false,
        }
    }
}
