//! Inbound flood protection: each user's updates are handled at most
//! `limit` a minute (a sliding window); the excess is dropped, with one
//! notice per flood. Counted in memory: a restart forgives.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

const WINDOW_MS: i64 = 60_000;
/// Above this many users tracked, idle ones are forgotten.
const TRACKED: usize = 10_000;

/// What to do with one update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Handle,
    /// The first one over the limit: dropped, and the sender told once.
    DropAndNotify,
    Drop,
}

#[derive(Debug)]
pub struct Flood {
    limit: usize,
    users: Mutex<HashMap<i64, Recent>>,
}

#[derive(Debug, Default)]
struct Recent {
    /// When the updates handled in the last minute arrived (unix ms).
    handled: VecDeque<i64>,
    /// Whether the sender was told about the flood they are in.
    notified: bool,
}

impl Flood {
    pub fn new(limit_per_min: u32) -> Self {
        Self {
            limit: usize::try_from(limit_per_min).unwrap_or(usize::MAX),
            users: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Counts one update from `user` at `now`.
    pub fn check(&self, user: i64, now: i64) -> Verdict {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if users.len() >= TRACKED && !users.contains_key(&user) {
            users.retain(|_, r| r.handled.back().is_some_and(|t| now - t < WINDOW_MS));
        }
        let recent = users.entry(user).or_default();
        while recent.handled.front().is_some_and(|t| now - t >= WINDOW_MS) {
            recent.handled.pop_front();
        }
        if recent.handled.len() < self.limit {
            recent.handled.push_back(now);
            recent.notified = false;
            return Verdict::Handle;
        }
        if recent.notified {
            return Verdict::Drop;
        }
        recent.notified = true;
        Verdict::DropAndNotify
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excess_is_dropped_with_one_notice_and_the_window_slides() {
        let flood = Flood::new(3);
        let verdicts: Vec<Verdict> = (0..6).map(|i| flood.check(1, i * 1000)).collect();
        use Verdict::*;
        assert_eq!(
            verdicts,
            [Handle, Handle, Handle, DropAndNotify, Drop, Drop]
        );
        // Another user is counted apart.
        assert_eq!(flood.check(2, 5000), Handle);
        // A minute after the first one, one more fits; a new flood is told again.
        assert_eq!(flood.check(1, 60_000), Handle);
        assert_eq!(flood.check(1, 60_500), DropAndNotify);
        assert_eq!(flood.check(1, 62_000), Handle);
    }
}
