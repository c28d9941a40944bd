use std::fmt::Write;

use crate::{
    bot::Dispatcher,
    store::lockouts,
    timefmt::{span, utc},
};

/// Lockouts in force.
pub async fn run(bot: &Dispatcher) -> anyhow::Result<String> {
    let now = bot.clock.now_ms();
    let list = lockouts::in_force(&bot.reads, now).await?;
    if list.is_empty() {
        return Ok("Nobody is locked out.".to_owned());
    }
    let mut text = String::from("Locked out (/unlock ID lifts one):");
    for l in list {
        let _ = write!(
            text,
            "\n{} until {} UTC (in {})",
            l.user_id,
            utc(l.until),
            span(l.until - now)
        );
    }
    Ok(text)
}
