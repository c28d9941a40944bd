//! Telegram's flood limits, as the stand-in enforces them: a message over
//! a limit is answered 429 with the retry_after that would let it through.
//! Windows are 10% shorter than the limits they stand for, so the delivery
//! jitter of a sender that paces itself exactly is tolerated (Telegram's own
//! enforcement is not to the millisecond either).

use std::collections::{HashMap, VecDeque};

use crate::telegram::throttle::{Limits, is_group};

const SECOND: i64 = 900;
const MINUTE: i64 = 54_000;

/// When messages were accepted, overall and per chat.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    all: VecDeque<i64>,
    chats: HashMap<i64, VecDeque<i64>>,
}

impl Ledger {
    /// Accepts a message to `chat_id` at `now`, or returns the seconds to wait.
    pub(super) fn admit(&mut self, limits: &Limits, chat_id: i64, now: i64) -> Result<(), u64> {
        prune(&mut self.all, now - SECOND);
        let chat = self.chats.entry(chat_id).or_default();
        prune(chat, now - MINUTE);
        let in_last =
            |q: &VecDeque<i64>, window: i64| q.iter().filter(|t| **t > now - window).count();
        let mut wait_ms = 0;
        if in_last(&self.all, SECOND) >= count(limits.global_per_sec) {
            wait_ms = wait_ms.max(until_free(&self.all, SECOND, now));
        }
        if in_last(chat, SECOND) >= count(limits.chat_per_sec) {
            wait_ms = wait_ms.max(until_free(chat, SECOND, now));
        }
        if is_group(chat_id) && chat.len() >= count(limits.group_per_min) {
            wait_ms = wait_ms.max(until_free(chat, MINUTE, now));
        }
        if wait_ms > 0 {
            return Err(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1));
        }
        self.all.push_back(now);
        chat.push_back(now);
        Ok(())
    }
}

fn count(limit: u32) -> usize {
    usize::try_from(limit).unwrap_or(usize::MAX)
}

fn prune(times: &mut VecDeque<i64>, before: i64) {
    while times.front().is_some_and(|t| *t <= before) {
        times.pop_front();
    }
}

/// How long until the oldest entry in the window leaves it.
fn until_free(times: &VecDeque<i64>, window: i64, now: i64) -> i64 {
    times
        .iter()
        .find(|t| **t > now - window)
        .map_or(1, |oldest| (oldest + window - now).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_message_to_a_chat_within_a_second_is_refused() {
        let mut ledger = Ledger::default();
        let limits = Limits::default();
        assert_eq!(ledger.admit(&limits, 7, 0), Ok(()));
        assert_eq!(ledger.admit(&limits, 7, 500), Err(1));
        assert_eq!(ledger.admit(&limits, 7, 950), Ok(()));
    }

    #[test]
    fn a_group_gets_twenty_a_minute() {
        let mut ledger = Ledger::default();
        let limits = Limits::default();
        for i in 0..20 {
            assert_eq!(ledger.admit(&limits, -5, i * 1000), Ok(()), "message {i}");
        }
        let wait = ledger.admit(&limits, -5, 20_000).unwrap_err();
        assert_eq!(wait, 34, "until the first leaves the 54 s window");
    }

    #[test]
    fn thirty_a_second_overall() {
        let mut ledger = Ledger::default();
        let limits = Limits::default();
        for chat in 1..=30 {
            assert_eq!(ledger.admit(&limits, chat, chat), Ok(()));
        }
        assert_eq!(ledger.admit(&limits, 31, 40), Err(1));
    }
}
