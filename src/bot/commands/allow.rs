use super::{Reply, user_id_arg};
use crate::{
    bot::{
        Dispatcher,
        context::Context,
        effect::{Effect, Role},
    },
    store::users::{self, How},
};

const USAGE: &str = "Usage: /allow ID (a user) or /allow ID owner (an owner). The ID is a number: the user can send /whoami to learn it.";

/// Lets a user in (role user), or sets the role of one already in.
pub async fn run(args: &str, ctx: &Context, bot: &Dispatcher) -> anyhow::Result<Reply> {
    let mut words = args.split_whitespace().skip(1);
    let role = match words.next() {
        None => Role::User,
        Some(word) => match Role::parse(&word.to_ascii_lowercase()) {
            Some(role) => role,
            None => return Ok(Reply::declined(USAGE, "usage shown")),
        },
    };
    let (Some(user), None) = (user_id_arg(args), words.next()) else {
        return Ok(Reply::declined(USAGE, "usage shown"));
    };
    if user == bot.access.owner() {
        return Ok(Reply::declined(
            format!("{user} is the owner set by BOT_OWNER_ID already."),
            "already the owner",
        ));
    }
    let before = users::role(&bot.reads, user).await?;
    if before.as_deref() == Some(role.as_str()) {
        return Ok(Reply::declined(
            format!("{user} is {} already.", a(role.as_str())),
            "no change",
        ));
    }
    let by = ctx.user_id.unwrap_or_default();
    let effect = Effect::Allow {
        user,
        role,
        how: How::Chat { by },
    };
    let (text, outcome) = match before {
        None => (
            format!("{user} may use the bot now, as {}.", a(role.as_str())),
            format!("user {user} allowed as {}", role.as_str()),
        ),
        Some(old) => (
            format!("{user} is {} now (was {}).", a(role.as_str()), a(&old)),
            format!(
                "role of user {user} changed from {old} to {}",
                role.as_str()
            ),
        ),
    };
    Ok(Reply::change(text, outcome, vec![effect]))
}

/// "a user", "an owner".
fn a(role: &str) -> String {
    let article = if role == "owner" { "an" } else { "a" };
    format!("{article} {role}")
}
