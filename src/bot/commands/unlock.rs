use super::{Reply, user_id_arg};
use crate::{
    bot::{Dispatcher, effect::Effect},
    store::lockouts,
};

/// Lifts a lockout and forgets the user's wrong codes.
pub async fn run(args: &str, bot: &Dispatcher) -> anyhow::Result<Reply> {
    let Some(user) = user_id_arg(args) else {
        return Ok(Reply::declined(
            "Usage: /unlock ID (a number; /lockouts lists them).",
            "usage shown",
        ));
    };
    let now = bot.clock.now_ms();
    let text = match lockouts::locked_until(&bot.reads, user, now).await? {
        Some(_) => format!("{user} is no longer locked out."),
        None => format!("{user} was not locked out; their wrong tries are forgotten."),
    };
    Ok(Reply::change(
        text,
        format!("user {user} unlocked"),
        vec![Effect::Unlock { user }],
    ))
}
