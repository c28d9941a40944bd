use std::fmt::Write;

use crate::{bot::Dispatcher, store::users, timefmt::utc};

/// Everyone who may use the bot, and how they came to.
pub async fn run(bot: &Dispatcher) -> anyhow::Result<String> {
    let mut text = format!("Owner (BOT_OWNER_ID): {}", bot.access.owner());
    let configured = bot.access.allowed();
    if !configured.is_empty() {
        let ids: Vec<String> = configured.iter().map(i64::to_string).collect();
        let _ = write!(text, "\nIn ALLOWED_CHAT_IDS: {}", ids.join(", "));
    }
    let stored = users::list(&bot.reads).await?;
    if stored.is_empty() {
        text.push_str("\nNobody enrolled or allowed at run time.");
    }
    for u in stored {
        let by = u.by_user.map_or_else(String::new, |by| format!(" by {by}"));
        let _ = write!(
            text,
            "\n{} - {}, via {}{by}, since {} UTC",
            u.user_id,
            u.role,
            u.how,
            utc(u.enrolled_at)
        );
    }
    Ok(text)
}
