use super::{Reply, user_id_arg};
use crate::{
    bot::{Dispatcher, effect::Effect},
    store::users,
};

/// Removes a user let in at run time, and closes their session.
pub async fn run(args: &str, bot: &Dispatcher) -> anyhow::Result<Reply> {
    let Some(user) = user_id_arg(args) else {
        return Ok(Reply::declined(
            "Usage: /revoke ID (a number; /users lists them).",
            "usage shown",
        ));
    };
    if user == bot.access.owner() {
        return Ok(Reply::declined(
            "The owner set by BOT_OWNER_ID cannot be revoked.",
            "refused: the configured owner",
        ));
    }
    let stored = users::role(&bot.reads, user).await?.is_some();
    let close = Effect::CloseSession { user };
    if bot.access.configured(user) {
        return Ok(Reply::change(
            format!(
                "{user} is in ALLOWED_CHAT_IDS: remove them there and restart telegate. Their session is closed."
            ),
            format!("session of user {user} closed; still in ALLOWED_CHAT_IDS"),
            vec![close],
        ));
    }
    if !stored {
        return Ok(Reply::change(
            format!("{user} was not enrolled or allowed."),
            format!("user {user} not found"),
            vec![close],
        ));
    }
    Ok(Reply::change(
        format!("{user} may no longer use the bot; their session is closed."),
        format!("user {user} revoked"),
        vec![Effect::Revoke { user }],
    ))
}
