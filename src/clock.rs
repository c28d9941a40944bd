//! The time every decision is made at. Production reads the system clock;
//! tests move it forward instead of sleeping through a timeout.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use tokio::sync::Notify;

/// The system clock plus an offset that only tests change. Clones share the
/// offset, so a test advances the clock the server decides by, and wakes
/// whoever sleeps on it.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    advanced: Arc<Notify>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        crate::store::now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        self.advanced.notify_waiters();
    }

    /// Sleeps until this clock reads `at_ms` (a test's advance ends it early).
    pub async fn sleep_until(&self, at_ms: i64) {
        loop {
            let advanced = self.advanced.notified();
            let left = at_ms - self.now_ms();
            if left <= 0 {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(left.unsigned_abs())) => {}
                () = advanced => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_is_ahead_in_every_clone() {
        let clock = Clock::system();
        let clone = clock.clone();
        let before = clone.now_ms();
        clock.advance(Duration::from_secs(3600));
        assert!(clone.now_ms() - before >= 3_600_000);
    }

    #[tokio::test]
    async fn advancing_the_clock_ends_a_sleep_on_it() {
        let clock = Clock::system();
        let wake_at = clock.now_ms() + 3_600_000;
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(wake_at).await }
        });
        // Each advance wakes the sleeper to look again; an hour ends it.
        while !sleeper.is_finished() {
            clock.advance(Duration::from_secs(600));
            tokio::task::yield_now().await;
        }
        assert!(clock.now_ms() >= wake_at);
    }
}
