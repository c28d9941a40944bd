//! The brute-force guard shared by enrolment and /auth: wrong codes are
//! counted per user, and too many within the window lock that user out. The
//! owner hears of each lockout once.

use super::{Dispatcher, Handled, context::Context, effect::Effect, reply};
use crate::store::{audit::Decision, lockouts, outbox::NewCall};

pub const LOCKED: &str = "Too many wrong codes. Try again later.";

impl Dispatcher {
    /// Whether the user is locked out now.
    pub(super) async fn locked(&self, user: i64, now: i64) -> anyhow::Result<bool> {
        Ok(lockouts::locked_until(&self.reads, user, now)
            .await?
            .is_some())
    }

    /// A wrong passcode or code: counted, and the user locked out when it
    /// was one too many. `wrong` starts the reply ("That is not the passcode.").
    pub(super) async fn wrong_code(
        &self,
        ctx: &Context,
        user: i64,
        now: i64,
        wrong: &str,
    ) -> anyhow::Result<Handled> {
        let guard = &self.guard;
        let forget_before = now - millis(guard.window);
        let failures = lockouts::failures_since(&self.reads, user, forget_before).await? + 1;
        let mut effects = vec![Effect::Fail {
            user,
            forget_before,
        }];
        let limit = i64::from(guard.after);
        if failures < limit {
            let left = limit - failures;
            let text =
                format!("{wrong} {left} more wrong one(s) and you will be locked out for a while.");
            return Ok(reply::answer(
                ctx,
                Decision::Refused,
                "wrong code",
                &text,
                effects,
            ));
        }
        effects.push(Effect::LockOut {
            user,
            until: now + millis(guard.duration),
        });
        let mut handled = reply::answer(
            ctx,
            Decision::Refused,
            "locked out after wrong codes",
            LOCKED,
            effects,
        );
        if user == self.access.owner() {
            // The owner reads LOCKED in this very chat.
            return Ok(handled);
        }
        handled.calls.push(self.to_owner(format!(
            "User {user} is locked out for {} after {failures} wrong codes. /unlock {user} lifts it.",
            crate::timefmt::span(millis(guard.duration))
        )));
        Ok(handled)
    }

    /// A notice to the owner.
    pub(super) fn to_owner(&self, text: String) -> NewCall {
        reply::send_message(self.access.owner(), &text)
    }
}

pub fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
