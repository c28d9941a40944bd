//! The buttons of `/get`: a folder listing's entries, and [Send] [Cancel]
//! under the question before a file is sent. Like the relay's buttons, the
//! callback data is an opaque random id that only this table gives a
//! meaning to; a button works for the user it was made for, in their chat,
//! until it expires. The table lives in memory: a restart forgets it.

use std::{collections::HashMap, path::PathBuf, sync::Mutex};

/// What pressing a button does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open an entry of a listing: a folder is listed, a file sent.
    Open,
    /// [Send] under a question.
    Send,
    /// [Cancel] under a question.
    Decline,
}

/// A live button.
#[derive(Debug, Clone)]
pub struct Pick {
    pub action: Action,
    pub user: i64,
    pub chat: i64,
    /// Which of DOWNLOAD_DIRS, and the path below it.
    pub root: usize,
    pub rel: PathBuf,
    pub expires_at: i64,
    /// Buttons of one question share a group: pressing one ends them all.
    group: u64,
}

/// What a press came to.
#[derive(Debug)]
pub enum Press {
    /// Not one of these buttons (maybe a relay button).
    NotOurs,
    NotYours,
    Expired(Pick),
    Pressed(Pick),
}

/// How many buttons may be live at once; past it the oldest groups go.
const MAX_LIVE: usize = 5000;

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, Pick>,
    next: u64,
}

/// The table of live `/get` buttons.
#[derive(Default)]
pub struct Picks {
    inner: Mutex<Inner>,
}

/// One button to make: its action and the path it stands for.
pub struct New {
    pub action: Action,
    pub rel: PathBuf,
}

impl std::fmt::Debug for Picks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Picks").finish_non_exhaustive()
    }
}

impl Picks {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers buttons for `user` in `chat` under root `root`, working
    /// until `expires_at`; returns their tokens.
    pub fn make(
        &self,
        user: i64,
        chat: i64,
        root: usize,
        buttons: Vec<New>,
        expires_at: i64,
        now: i64,
    ) -> Vec<String> {
        let mut inner = self.lock();
        inner.tokens.retain(|_, p| p.expires_at > now);
        while inner.tokens.len() + buttons.len() > MAX_LIVE {
            let Some(oldest) = inner.tokens.values().map(|p| p.group).min() else {
                break;
            };
            inner.tokens.retain(|_, p| p.group != oldest);
        }
        inner.next += 1;
        let group = inner.next;
        buttons
            .into_iter()
            .map(|b| {
                let token = crate::relay::buttons::token();
                let pick = Pick {
                    action: b.action,
                    user,
                    chat,
                    root,
                    rel: b.rel,
                    expires_at,
                    group,
                };
                inner.tokens.insert(token.clone(), pick);
                token
            })
            .collect()
    }

    /// `user` pressed `data` in `chat` at `now`. A question's buttons are
    /// used up by the first press; a listing's stay until they expire.
    pub fn press(&self, data: &str, user: i64, chat: Option<i64>, now: i64) -> Press {
        let mut inner = self.lock();
        let Some(pick) = inner.tokens.get(data).cloned() else {
            return Press::NotOurs;
        };
        if pick.user != user || chat != Some(pick.chat) {
            return Press::NotYours;
        }
        if pick.expires_at <= now {
            inner.tokens.retain(|_, p| p.group != pick.group);
            return Press::Expired(pick);
        }
        if pick.action != Action::Open {
            inner.tokens.retain(|_, p| p.group != pick.group);
        }
        Press::Pressed(pick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(picks: &Picks) -> Vec<String> {
        let new = |action| New {
            action,
            rel: PathBuf::from("a.pdf"),
        };
        picks.make(
            1,
            1,
            0,
            vec![new(Action::Send), new(Action::Decline)],
            100,
            0,
        )
    }

    #[test]
    fn a_question_works_once_and_only_for_its_user() {
        let picks = Picks::default();
        let tokens = question(&picks);
        assert!(matches!(
            picks.press(&tokens[0], 2, Some(1), 10),
            Press::NotYours
        ));
        assert!(matches!(
            picks.press(&tokens[0], 1, Some(1), 10),
            Press::Pressed(_)
        ));
        assert!(matches!(
            picks.press(&tokens[1], 1, Some(1), 10),
            Press::NotOurs
        ));
    }

    #[test]
    fn a_button_pressed_too_late_is_expired() {
        let picks = Picks::default();
        let tokens = question(&picks);
        assert!(matches!(
            picks.press(&tokens[0], 1, Some(1), 100),
            Press::Expired(_)
        ));
    }
}
