//! The time every decision is made at. Production reads the system clock;
//! tests move it forward instead of sleeping through a timeout.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

/// The system clock plus an offset that only tests change. Clones share the
/// offset, so a test advances the clock the server decides by.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
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
}
