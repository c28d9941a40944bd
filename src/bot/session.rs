//! Step-up authentication: sensitive commands need a session. `/auth CODE`
//! opens one (a TOTP code, or the passcode when no TOTP secret is set),
//! `/logout` closes it, and it ends SESSION_TIMEOUT after the last command or
//! SESSION_MAX_AGE after it opened, whichever comes first.

use std::time::Duration;

use super::{
    Dispatcher, Handled,
    context::Context,
    context_entry,
    effect::Effect,
    guard::{LOCKED, millis},
    reply::{answer, delete_message, refused, send_message},
};
use crate::{
    auth::totp::TotpVerifier,
    config::Secret,
    store::{
        audit::{Decision, Entry},
        sessions::{self, Session},
    },
    timefmt::span,
};

pub const NEEDS_SESSION: &str =
    "This command needs a session: send /auth CODE in a private chat with me first.";
pub const EXPIRED: &str =
    "Your session has expired. Send /auth CODE in a private chat with me to open a new one.";
pub const LOGGED_OUT: &str = "Session closed.";

/// What /auth checks.
#[derive(Debug)]
pub enum Factor {
    Totp(TotpVerifier),
    Passcode(Secret),
    /// Neither TOTP_SECRET nor ENROLLMENT_PASSCODE: sensitive commands are off.
    Off,
}

/// The session settings.
#[derive(Debug)]
pub struct StepUp {
    pub factor: Factor,
    pub timeout: Duration,
    pub max_age: Duration,
}

/// Where a user's session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Open,
    Expired,
    Closed,
}

impl StepUp {
    /// Whether a session is still open at `now`.
    pub fn alive(&self, session: &Session, now: i64) -> bool {
        now - session.last_active <= millis(self.timeout)
            && now - session.opened_at <= millis(self.max_age)
    }
}

impl Dispatcher {
    pub(super) async fn session_state(&self, user: i64) -> anyhow::Result<State> {
        Ok(match sessions::get(&self.reads, user).await? {
            None => State::Closed,
            Some(s) if self.step_up.alive(&s, self.clock.now_ms()) => State::Open,
            Some(_) => State::Expired,
        })
    }

    /// `/auth CODE`. The message is deleted whenever it carried something,
    /// right or wrong, in whatever chat.
    pub(super) async fn auth(
        &self,
        ctx: &Context,
        user: i64,
        message_id: i32,
        code: &str,
    ) -> anyhow::Result<Handled> {
        let mut handled = self.check_code(ctx, user, code.trim()).await?;
        handled.entry.command = Some("auth".to_owned());
        if !code.trim().is_empty() {
            if let Some(chat) = ctx.chat_id() {
                handled.calls.insert(0, delete_message(chat, message_id));
            }
            handled.scrub = true;
        }
        Ok(handled)
    }

    async fn check_code(&self, ctx: &Context, user: i64, code: &str) -> anyhow::Result<Handled> {
        let now = self.clock.now_ms();
        let refused =
            |outcome: &str, text: &str| Ok(answer(ctx, Decision::Refused, outcome, text, vec![]));
        let asked_for = match self.step_up.factor {
            Factor::Off => {
                return refused(
                    "no second factor configured",
                    "Sensitive commands are off: the operator has set neither TOTP_SECRET nor ENROLLMENT_PASSCODE.",
                );
            }
            Factor::Totp(_) => "the 6-digit code from your authenticator app",
            Factor::Passcode(_) => "the passcode",
        };
        if code.is_empty() {
            return refused(
                "usage shown",
                &format!("Send /auth followed by {asked_for}."),
            );
        }
        let opened = self.accepts(code, now).await?;
        if !ctx.chat.is_some_and(|c| c.is_private()) {
            return Ok(self.seen_in_group(ctx, user, opened));
        }
        if self.locked(user, now).await? {
            return refused("auth while locked out", LOCKED);
        }
        let Some((how, used)) = opened else {
            return self
                .wrong_code(ctx, user, now, "That code is wrong, or was used already.")
                .await;
        };
        let text = format!(
            "Session open. It closes after {} without a command, {} after now at the latest, or when you send /logout.",
            span(millis(self.step_up.timeout)),
            span(millis(self.step_up.max_age)),
        );
        let mut effects = vec![Effect::OpenSession { user, how }];
        effects.extend(used);
        Ok(answer(
            ctx,
            Decision::Allowed,
            &format!("session opened ({how})"),
            &text,
            effects,
        ))
    }

    /// Whether `code` opens a session now: how, and the TOTP step it uses.
    async fn accepts(
        &self,
        code: &str,
        now: i64,
    ) -> anyhow::Result<Option<(&'static str, Option<Effect>)>> {
        Ok(match &self.step_up.factor {
            Factor::Totp(totp) => {
                let last = sessions::last_totp_step(&self.reads)
                    .await?
                    .and_then(|s| u64::try_from(s).ok());
                let unix = u64::try_from(now / 1000).unwrap_or_default();
                totp.accept(code, unix, last).map(|step| {
                    let step = i64::try_from(step).unwrap_or(i64::MAX);
                    ("totp", Some(Effect::UseTotpStep { step }))
                })
            }
            Factor::Passcode(passcode) => passcode
                .matches(code.as_bytes())
                .then_some(("passcode", None)),
            Factor::Off => None,
        })
    }

    /// `/auth CODE` sent where others read it. Nothing is opened; a valid
    /// TOTP code is spent so nobody in the group can use it, and a valid
    /// passcode (which stays valid) is reported to the sender and the owner
    /// in private, never in the group, which must not learn it was right.
    fn seen_in_group(
        &self,
        ctx: &Context,
        user: i64,
        opened: Option<(&'static str, Option<Effect>)>,
    ) -> Handled {
        let mut handled = answer(
            ctx,
            Decision::Refused,
            "auth outside a private chat",
            "Send /auth in a private chat with me, never in a group. I tried to delete your message; use a new code in private.",
            vec![],
        );
        match opened {
            Some((_, Some(spend))) => {
                handled.entry.outcome =
                    "auth outside a private chat; the code was spent".to_owned();
                handled.effects.push(spend);
            }
            Some(("passcode", None)) => {
                handled.entry.outcome =
                    "auth outside a private chat; the passcode was exposed".to_owned();
                let chat = ctx.chat_id().unwrap_or_default();
                let exposed = format!(
                    "sent the passcode with /auth in the group {chat}: its members may know it now. Change ENROLLMENT_PASSCODE and restart telegate."
                );
                if user == self.access.owner() {
                    handled.calls.push(self.to_owner(format!("You {exposed}")));
                } else {
                    handled.calls.push(send_message(
                        user,
                        "You sent the passcode in a group: its members may have read it. The owner has been told to change it.",
                    ));
                    handled
                        .calls
                        .push(self.to_owner(format!("User {user} {exposed}")));
                }
            }
            _ => {}
        }
        handled
    }

    /// `/logout`.
    pub(super) async fn logout(&self, ctx: &Context, user: i64) -> anyhow::Result<Handled> {
        let (outcome, text) = match self.session_state(user).await? {
            State::Open => ("session closed", LOGGED_OUT),
            State::Expired => ("session closed (it had expired)", LOGGED_OUT),
            State::Closed => ("no session was open", "No session was open."),
        };
        let mut handled = answer(
            ctx,
            Decision::Allowed,
            outcome,
            text,
            vec![Effect::CloseSession { user }],
        );
        handled.entry.command = Some("logout".to_owned());
        Ok(handled)
    }

    /// The gate in front of a sensitive command: `Ok(effects)` to run it
    /// (sliding the session), `Err(refusal)` otherwise.
    pub(super) async fn step_up_gate(
        &self,
        ctx: &Context,
        user: i64,
        command: &str,
    ) -> anyhow::Result<Result<Effect, Handled>> {
        let refusal = |outcome: &str, text: &str| refused(ctx, command, outcome, text);
        Ok(match self.session_state(user).await? {
            State::Open => Ok(Effect::Touch { user }),
            State::Closed => Err(refusal("refused: no session", NEEDS_SESSION)),
            State::Expired => {
                let mut handled = refusal("refused: session expired", EXPIRED);
                handled.effects.push(Effect::CloseSession { user });
                handled.more.push(Entry {
                    command: None,
                    ..context_entry(ctx, None, Decision::Allowed, "session expired")
                });
                Err(handled)
            }
        })
    }
}
