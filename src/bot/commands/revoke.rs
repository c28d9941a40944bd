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
    let stored = users::role(&bot.reads, user).await?;
    let close = Effect::CloseSession { user };
    match (bot.access.configured(user), stored) {
        (true, Some(role)) => Ok(Reply::change(
            format!(
                "{user} lost the {role} role stored for them and their session is closed. They are also in ALLOWED_CHAT_IDS, so they can still use the bot until you remove them there and restart telegate."
            ),
            format!("stored {role} role of user {user} revoked; still in ALLOWED_CHAT_IDS"),
            vec![Effect::Revoke { user }],
        )),
        (true, None) => Ok(Reply::change(
            format!(
                "{user} is in ALLOWED_CHAT_IDS: remove them there and restart telegate. Their session is closed."
            ),
            format!("session of user {user} closed; still in ALLOWED_CHAT_IDS"),
            vec![close],
        )),
        (false, None) => Ok(Reply::change(
            format!("{user} was not enrolled or allowed."),
            format!("user {user} not found"),
            vec![close],
        )),
        (false, Some(_)) => Ok(Reply::change(
            format!("{user} may no longer use the bot; their session is closed."),
            format!("user {user} revoked"),
            vec![Effect::Revoke { user }],
        )),
    }
}
