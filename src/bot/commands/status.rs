use crate::{
    bot::Dispatcher,
    store::{inbox, outbox},
    timefmt::span,
};

pub async fn run(bot: &Dispatcher) -> anyhow::Result<String> {
    let pending = inbox::count_pending(&bot.db).await?;
    let outbound = outbox::count_pending(&bot.db).await?;
    let dead = outbox::count_dead(&bot.db).await?;
    Ok(format!(
        "telegate {}\nUp for {}\nUpdates waiting: {pending}\nMessages waiting to be sent: {outbound}\nMessages that could not be delivered: {dead}",
        env!("CARGO_PKG_VERSION"),
        span(i64::try_from(bot.started.elapsed().as_millis()).unwrap_or(i64::MAX)),
    ))
}
