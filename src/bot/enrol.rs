//! Enrolment: a stranger sends /start in a private chat, is asked for the
//! passcode, and sends it as a plain message. The message is deleted from the
//! chat whether the passcode was right or wrong; wrong ones count towards a
//! lockout (see [`super::guard`]).

use super::{
    Dispatcher, Handled,
    command::{self, Parsed},
    context::Context,
    effect::{Effect, Role},
    guard::LOCKED,
    refuse,
    reply::{answer, delete_message},
};
use crate::{
    config::Secret,
    store::{audit::Decision, lockouts, users::How},
};

pub const ASK: &str =
    "This is a private bot. If you were given its passcode, send it now as a message.";
pub const WELCOME: &str = "Welcome! You can use this bot now. Send /help to see what it can do.";

impl Dispatcher {
    /// A private message from someone not (yet) allowed.
    pub(super) async fn stranger(
        &self,
        ctx: &Context,
        message_id: i32,
        text: &str,
    ) -> anyhow::Result<Handled> {
        let (Some(passcode), Some(chat)) = (&self.passcode, ctx.chat) else {
            return Ok(refuse(ctx));
        };
        let user = chat.id;
        let now = self.clock.now_ms();
        let locked = self.locked(user, now).await?
            || lockouts::enrolment_paused_until(&self.reads, now)
                .await?
                .is_some();
        match command::parse(text, &self.username()) {
            Parsed::Command { name, .. } if name == "start" => {
                if locked {
                    return Ok(answer(
                        ctx,
                        Decision::Refused,
                        "start while locked out",
                        LOCKED,
                        vec![],
                    ));
                }
                Ok(answer(
                    ctx,
                    Decision::Refused,
                    "asked for the passcode",
                    ASK,
                    vec![Effect::Ask { user }],
                ))
            }
            Parsed::Text if lockouts::was_asked(&self.reads, user).await? => {
                let mut handled = if locked {
                    answer(
                        ctx,
                        Decision::Refused,
                        "passcode while locked out",
                        LOCKED,
                        vec![],
                    )
                } else {
                    self.check_passcode(ctx, user, passcode, text, now).await?
                };
                // The passcode must not stay in the chat history, right or wrong.
                handled.calls.insert(0, delete_message(user, message_id));
                handled.scrub = true;
                Ok(handled)
            }
            _ => Ok(refuse(ctx)),
        }
    }

    async fn check_passcode(
        &self,
        ctx: &Context,
        user: i64,
        passcode: &Secret,
        text: &str,
        now: i64,
    ) -> anyhow::Result<Handled> {
        if !passcode.matches(text.trim().as_bytes()) {
            let mut handled = self
                .wrong_code(ctx, user, now, "That is not the passcode.")
                .await?;
            self.count_against_budget(&mut handled, now).await?;
            return Ok(handled);
        }
        let enrol = Effect::Allow {
            user,
            role: Role::User,
            how: How::Passcode,
        };
        let mut handled = answer(
            ctx,
            Decision::Allowed,
            "enrolled with the passcode",
            WELCOME,
            vec![enrol],
        );
        handled
            .calls
            .push(self.to_owner(format!("User {user} enrolled with the passcode.")));
        Ok(handled)
    }

    /// Counts a wrong passcode towards the overall budget; the one that
    /// uses it up pauses enrolment for an hour and tells the owner.
    async fn count_against_budget(&self, handled: &mut Handled, now: i64) -> anyhow::Result<()> {
        let forget_before = now - HOUR_MS;
        let wrong = lockouts::wrong_passcodes_since(&self.reads, forget_before).await? + 1;
        handled
            .effects
            .push(Effect::WrongPasscode { forget_before });
        let budget = self.guard.enrolment_wrong_per_hour;
        if wrong < i64::from(budget) {
            return Ok(());
        }
        handled.effects.push(Effect::PauseEnrolment {
            until: now + HOUR_MS,
        });
        handled.entry.outcome = format!("{}; enrolment paused", handled.entry.outcome);
        handled.calls.push(self.to_owner(format!(
            "Enrolment is paused for an hour: {wrong} wrong passcodes arrived within the last hour (ENROLLMENT_MAX_WRONG_PER_HOUR is {budget}). Someone may be guessing it; if you think it is known, change ENROLLMENT_PASSCODE."
        )));
        Ok(())
    }
}

const HOUR_MS: i64 = 3_600_000;
