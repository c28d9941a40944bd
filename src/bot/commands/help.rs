use std::fmt::Write;

use super::{COMMANDS, Level, listed};
use crate::bot::{Dispatcher, context::Context};

/// The commands this user may use; owners see the owner tools too.
pub async fn run(ctx: &Context, bot: &Dispatcher) -> anyhow::Result<String> {
    let owner = match ctx.user_id {
        Some(user) => bot.is_owner(user).await?,
        None => false,
    };
    let relay = !bot.relay.catalog().commands.is_empty();
    let mut text = String::from("Commands you may use:");
    for c in COMMANDS
        .iter()
        .filter(|c| owner || c.level != Level::Owner)
        .filter(|c| listed(c, relay))
    {
        let usage = if c.usage.is_empty() {
            String::new()
        } else {
            format!(" {}", c.usage)
        };
        let mark = if c.level == Level::Ordinary {
            ""
        } else {
            " (needs /auth)"
        };
        let _ = write!(text, "\n/{}{usage} - {}{mark}", c.name, c.description);
    }
    if bot.downloads.enabled() {
        text.push_str("\n/get PATH - a file or folder from the server's download folders (needs /auth, asks to confirm)");
    }
    let Some(user) = ctx.user_id else {
        return Ok(text);
    };
    let mut relayed = String::new();
    for c in &bot.relay.catalog().commands {
        if !bot.may_run(user, c).await? {
            continue;
        }
        let mark = match (c.sensitive, c.confirm) {
            (true, _) => " (needs /auth, asks to confirm)",
            (false, true) => " (asks to confirm)",
            _ => "",
        };
        let _ = write!(relayed, "\n{c} - {}{mark}", c.description);
    }
    if !relayed.is_empty() {
        text.push_str("\n\nThe operator's commands (in a private chat with me):");
        text.push_str(&relayed);
    }
    Ok(text)
}
