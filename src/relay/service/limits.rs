//! RELAY_MAX_RUNNING and RELAY_MAX_PER_USER: a job holds a [`Slot`] from
//! the moment it is accepted to its end. The excess is refused at once,
//! never queued.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use super::Settings;

#[derive(Debug, Default)]
pub(super) struct Slots {
    total: usize,
    per_user: HashMap<i64, usize>,
}

/// Why a job was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Busy {
    #[error(
        "{0} commands are running already, the most at once (RELAY_MAX_RUNNING); nothing was started. Try again when one has finished."
    )]
    Overall(usize),
    #[error(
        "you have {0} commands running already, the most one person may at once (RELAY_MAX_PER_USER); nothing was started. Wait for one to finish, or /cancel them."
    )]
    User(usize),
}

/// A place for one job; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Mutex<Slots>>,
    user: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.total = slots.total.saturating_sub(1);
        if let Some(n) = slots.per_user.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                slots.per_user.remove(&self.user);
            }
        }
    }
}

pub(super) fn reserve(
    slots: &Arc<Mutex<Slots>>,
    settings: &Settings,
    user: i64,
) -> Result<Slot, Busy> {
    let mut held = slots.lock().unwrap_or_else(|e| e.into_inner());
    let mine = held.per_user.get(&user).copied().unwrap_or(0);
    if mine >= settings.max_per_user {
        return Err(Busy::User(mine));
    }
    if held.total >= settings.max_running {
        return Err(Busy::Overall(held.total));
    }
    held.total += 1;
    *held.per_user.entry(user).or_insert(0) += 1;
    Ok(Slot {
        slots: slots.clone(),
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excess_is_refused_and_a_slot_comes_back_when_dropped() {
        let slots = Arc::default();
        let settings = Settings {
            max_running: 3,
            max_per_user: 2,
            ..Settings::default()
        };
        let a1 = reserve(&slots, &settings, 1).unwrap();
        let _a2 = reserve(&slots, &settings, 1).unwrap();
        assert_eq!(reserve(&slots, &settings, 1).unwrap_err(), Busy::User(2));
        let _b1 = reserve(&slots, &settings, 2).unwrap();
        assert_eq!(reserve(&slots, &settings, 3).unwrap_err(), Busy::Overall(3));
        drop(a1);
        assert!(reserve(&slots, &settings, 3).is_ok());
    }
}
