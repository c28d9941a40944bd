use std::time::Duration;

use crate::{
    bot::Dispatcher,
    store::{inbox, outbox},
};

pub async fn run(bot: &Dispatcher) -> anyhow::Result<String> {
    let pending = inbox::count_pending(&bot.db).await?;
    let outbound = outbox::count_pending(&bot.db).await?;
    let dead = outbox::count_dead(&bot.db).await?;
    Ok(format!(
        "telegate {}\nUp for {}\nUpdates waiting: {pending}\nMessages waiting to be sent: {outbound}\nMessages that could not be delivered: {dead}",
        env!("CARGO_PKG_VERSION"),
        human(bot.started.elapsed()),
    ))
}

fn human(uptime: Duration) -> String {
    let s = uptime.as_secs();
    match (s / 86_400, s / 3600 % 24, s / 60 % 60) {
        (0, 0, m) => format!("{m} min {} s", s % 60),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uptime_reads_naturally() {
        use std::time::Duration;
        assert_eq!(super::human(Duration::from_secs(65)), "1 min 5 s");
        assert_eq!(
            super::human(Duration::from_secs(3 * 3600 + 120)),
            "3 h 2 min"
        );
        assert_eq!(
            super::human(Duration::from_secs(2 * 86_400 + 3600)),
            "2 d 1 h"
        );
    }
}
