//! Pacing outgoing calls within Telegram's limits: about one message a
//! second in a chat, twenty a minute in a group (spaced, so no bursts), thirty
//! a second overall. Each message gets a slot: the earliest time all three
//! allow. Calls that send no message (deleteMessage, answerCallbackQuery,
//! sendChatAction ...) are not held behind message limits, but a 429's wait
//! holds everything for that chat.

use std::collections::HashMap;

/// The configured rates (RATE_GLOBAL_PER_SEC, RATE_CHAT_PER_SEC, RATE_GROUP_PER_MIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub global_per_sec: u32,
    pub chat_per_sec: u32,
    pub group_per_min: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            global_per_sec: 30,
            chat_per_sec: 1,
            group_per_min: 20,
        }
    }
}

/// Above this many chats tracked, those whose next slot has passed are forgotten.
const TRACKED: usize = 10_000;

/// Whether a Bot API method sends (or edits) a message, and so counts
/// towards the limits.
pub fn is_message(method: &str) -> bool {
    matches!(
        method,
        "sendMessage"
            | "sendDocument"
            | "sendPhoto"
            | "sendAudio"
            | "sendVideo"
            | "sendVoice"
            | "sendAnimation"
            | "sendMediaGroup"
            | "sendLocation"
            | "sendContact"
            | "sendPoll"
            | "sendDice"
            | "sendSticker"
            | "copyMessage"
            | "forwardMessage"
            | "editMessageText"
            | "editMessageCaption"
            | "editMessageReplyMarkup"
            | "editMessageMedia"
    )
}

/// Group, supergroup and channel ids are negative; a private chat's is the
/// user's id.
pub fn is_group(chat_id: i64) -> bool {
    chat_id < 0
}

/// The answer to [`Throttle::reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Reserved: make the call at this time.
    At(i64),
    /// The chat must wait: ask again at this time.
    AskAgainAt(i64),
}

#[derive(Debug)]
pub struct Throttle {
    global_interval: i64,
    chat_interval: i64,
    group_interval: i64,
    /// The earliest time the next message may go, overall.
    global_next: i64,
    /// The same per chat.
    chat_next: HashMap<i64, i64>,
    /// A 429's wait per chat: nothing goes to the chat before it.
    held_until: HashMap<i64, i64>,
    /// A 429's wait for every chat (when the limit hit was the overall one).
    all_held_until: i64,
    /// The last 429: its chat and when it came.
    last_429: Option<(i64, i64)>,
}

impl Throttle {
    pub fn new(limits: Limits) -> Self {
        let interval =
            |per: i64, count: u32| (per + i64::from(count.max(1)) - 1) / i64::from(count.max(1));
        Self {
            global_interval: interval(1000, limits.global_per_sec),
            chat_interval: interval(1000, limits.chat_per_sec),
            group_interval: interval(60_000, limits.group_per_min)
                .max(interval(1000, limits.chat_per_sec)),
            global_next: 0,
            chat_next: HashMap::new(),
            held_until: HashMap::new(),
            all_held_until: 0,
            last_429: None,
        }
    }

    /// Asks for a slot for a call of `method` to `chat_id` at `now` (unix
    /// ms). The chat's own limits are checked first: while they hold the call
    /// back, nothing is reserved (so a waiting chat never holds up the
    /// others) and the answer is when to ask again.
    pub fn reserve(&mut self, chat_id: i64, method: &str, now: i64) -> Slot {
        self.forget_the_past(now);
        let held = self
            .held_until
            .get(&chat_id)
            .copied()
            .unwrap_or(0)
            .max(self.all_held_until);
        let chat_next = if is_message(method) {
            self.chat_next.get(&chat_id).copied().unwrap_or(0)
        } else {
            0
        };
        let ready = held.max(chat_next);
        if ready > now {
            return Slot::AskAgainAt(ready);
        }
        if !is_message(method) {
            return Slot::At(now);
        }
        let slot = now.max(self.global_next);
        let spacing = if is_group(chat_id) {
            self.group_interval
        } else {
            self.chat_interval
        };
        self.chat_next.insert(chat_id, slot + spacing);
        self.global_next = slot + self.global_interval;
        Slot::At(slot)
    }

    /// Holds every call to `chat_id` until `until` (after a 429). Telegram's
    /// 429 does not say which limit was hit; 429s for two different chats
    /// within a second mean the overall one, and then every chat waits.
    /// Returns whether the hold is for every chat.
    pub fn hold(&mut self, chat_id: i64, until: i64, now: i64) -> bool {
        let held = self.held_until.entry(chat_id).or_insert(until);
        *held = (*held).max(until);
        let overall = self
            .last_429
            .is_some_and(|(chat, at)| chat != chat_id && now - at < 1000);
        self.last_429 = Some((chat_id, now));
        if overall {
            self.all_held_until = self.all_held_until.max(until);
        }
        overall
    }

    fn forget_the_past(&mut self, now: i64) {
        if self.chat_next.len() > TRACKED {
            self.chat_next.retain(|_, next| *next > now);
        }
        if self.held_until.len() > TRACKED {
            self.held_until.retain(|_, until| *until > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reserves like a lane does: asking again when told to.
    fn take(t: &mut Throttle, chat: i64, method: &str, mut now: i64) -> i64 {
        loop {
            match t.reserve(chat, method, now) {
                Slot::At(at) => return at,
                Slot::AskAgainAt(at) => now = at,
            }
        }
    }

    fn slots(t: &mut Throttle, chat: i64, n: usize, now: i64) -> Vec<i64> {
        (0..n).map(|_| take(t, chat, "sendMessage", now)).collect()
    }

    #[test]
    fn one_chat_gets_one_message_a_second() {
        let mut t = Throttle::new(Limits::default());
        assert_eq!(slots(&mut t, 7, 3, 1000), [1000, 2000, 3000]);
    }

    #[test]
    fn a_group_gets_twenty_a_minute_evenly_spaced() {
        let mut t = Throttle::new(Limits::default());
        let s = slots(&mut t, -1_005, 21, 0);
        assert_eq!(s[1] - s[0], 3000);
        assert_eq!(
            s[20], 60_000,
            "the 21st waits a full minute after the first"
        );
    }

    #[test]
    fn thirty_chats_share_thirty_a_second() {
        let mut t = Throttle::new(Limits::default());
        let s: Vec<i64> = (1..=31)
            .map(|chat| take(&mut t, chat, "sendMessage", 0))
            .collect();
        assert_eq!(s[1], 34, "ceil(1000 / 30) ms apart");
        assert!(s[29] < 1000 && s[30] >= 1000, "{s:?}");
    }

    #[test]
    fn calls_that_send_no_message_are_not_held_behind_messages() {
        let mut t = Throttle::new(Limits::default());
        slots(&mut t, 7, 5, 0);
        assert_eq!(t.reserve(7, "deleteMessage", 0), Slot::At(0));
        assert_eq!(t.reserve(7, "answerCallbackQuery", 10), Slot::At(10));
    }

    #[test]
    fn a_hold_after_a_429_delays_everything_for_that_chat_only() {
        let mut t = Throttle::new(Limits::default());
        assert!(!t.hold(7, 5000, 0));
        assert_eq!(t.reserve(7, "sendMessage", 0), Slot::AskAgainAt(5000));
        assert_eq!(t.reserve(7, "deleteMessage", 0), Slot::AskAgainAt(5000));
        assert_eq!(
            t.reserve(8, "sendMessage", 0),
            Slot::At(0),
            "other chats go on"
        );
        assert_eq!(take(&mut t, 7, "sendMessage", 0), 5000);
    }

    #[test]
    fn too_many_requests_for_two_chats_within_a_second_hold_every_chat() {
        let mut t = Throttle::new(Limits::default());
        assert!(!t.hold(7, 3000, 0), "one chat's 429 holds that chat");
        assert!(
            t.hold(8, 4000, 500),
            "a second chat's 429 soon after: the overall limit"
        );
        assert_eq!(t.reserve(9, "sendMessage", 600), Slot::AskAgainAt(4000));
        assert!(
            !t.hold(9, 9000, 5000),
            "a lone 429 later is one chat's again"
        );
    }

    #[test]
    fn a_group_waiting_for_its_slot_does_not_hold_up_other_chats() {
        let mut t = Throttle::new(Limits::default());
        assert_eq!(take(&mut t, -5, "sendMessage", 0), 0);
        assert_eq!(t.reserve(-5, "sendMessage", 10), Slot::AskAgainAt(3000));
        assert_eq!(t.reserve(9, "sendMessage", 40), Slot::At(40));
    }

    #[test]
    fn paid_broadcast_rates_are_configurable() {
        let mut t = Throttle::new(Limits {
            global_per_sec: 1000,
            chat_per_sec: 1,
            group_per_min: 20,
        });
        let s: Vec<i64> = (1..=3)
            .map(|chat| take(&mut t, chat, "sendMessage", 0))
            .collect();
        assert_eq!(s, [0, 1, 2]);
    }
}
