//! Enrolment: a stranger sends /start in a private chat, is asked for the
//! passcode, and sends it as a plain message. The message is deleted from the
//! chat whether the passcode was right or wrong. Too many wrong passcodes
//! lock the user out for a while, and the owner hears of it once.

use std::time::Duration;

use serde_json::json;

use super::{
    Dispatcher, Handled,
    command::{self, Parsed},
    context::Context,
    context_entry, refuse,
};
use crate::{
    config::Secret,
    store::{audit::Decision, now_ms, outbox::NewCall, users},
};

pub const ASK: &str =
    "This is a private bot. If you were given its passcode, send it now as a message.";
pub const WELCOME: &str = "Welcome! You can use this bot now. Send /help to see what it can do.";
pub const LOCKED: &str = "Too many wrong passcodes. Try again later.";

/// The enrolment settings.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// `None`: enrolment is off.
    pub passcode: Option<Secret>,
    pub lockout_after: u32,
    pub lockout_window: Duration,
    pub lockout_duration: Duration,
}

/// A change enrolment makes, written in the transaction that finishes the update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Ask { user: i64 },
    Enrol { user: i64 },
    Fail { user: i64, forget_before: i64 },
    LockOut { user: i64, until: i64 },
}

impl Dispatcher {
    /// A private message from someone not (yet) allowed.
    pub(super) async fn stranger(
        &self,
        ctx: &Context,
        message_id: i32,
        text: &str,
    ) -> anyhow::Result<Handled> {
        let (Some(passcode), Some(chat)) = (&self.enrolment.passcode, ctx.chat) else {
            return Ok(refuse(ctx));
        };
        let user = chat.id;
        let now = now_ms();
        let locked = users::locked_until(&self.reads, user, now).await?.is_some();
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
            Parsed::Text if users::was_asked(&self.reads, user).await? => {
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
        if passcode.matches(text.trim().as_bytes()) {
            let mut handled = answer(
                ctx,
                Decision::Allowed,
                "enrolled with the passcode",
                WELCOME,
                vec![Effect::Enrol { user }],
            );
            handled
                .calls
                .push(self.to_owner(format!("User {user} enrolled with the passcode.")));
            return Ok(handled);
        }
        let window = millis(self.enrolment.lockout_window);
        let forget_before = now - window;
        let failures = users::failures_since(&self.reads, user, forget_before).await? + 1;
        let mut effects = vec![Effect::Fail {
            user,
            forget_before,
        }];
        let limit = i64::from(self.enrolment.lockout_after);
        if failures < limit {
            let left = limit - failures;
            let text = format!(
                "That is not the passcode. {left} more wrong one(s) and you will be locked out for a while."
            );
            return Ok(answer(
                ctx,
                Decision::Refused,
                "wrong passcode",
                &text,
                effects,
            ));
        }
        let until = now + millis(self.enrolment.lockout_duration);
        effects.push(Effect::LockOut { user, until });
        let mut handled = answer(
            ctx,
            Decision::Refused,
            "locked out after wrong passcodes",
            LOCKED,
            effects,
        );
        handled.calls.push(self.to_owner(format!(
            "User {user} is locked out for {} min after {failures} wrong passcodes.",
            self.enrolment.lockout_duration.as_secs() / 60
        )));
        Ok(handled)
    }

    fn to_owner(&self, text: String) -> NewCall {
        let owner = self.access.owner();
        NewCall {
            chat_id: owner,
            method: "sendMessage",
            params: json!({ "chat_id": owner, "text": text }),
        }
    }
}

fn answer(
    ctx: &Context,
    decision: Decision,
    outcome: &str,
    text: &str,
    effects: Vec<Effect>,
) -> Handled {
    let mut handled = super::reply::one(ctx, None, outcome, text);
    handled.entry = context_entry(ctx, None, decision, outcome);
    handled.effects = effects;
    handled
}

fn delete_message(chat_id: i64, message_id: i32) -> NewCall {
    NewCall {
        chat_id,
        method: "deleteMessage",
        params: json!({ "chat_id": chat_id, "message_id": message_id }),
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Applies an effect inside the finishing transaction.
pub async fn apply(conn: &mut sqlx::SqliteConnection, effect: &Effect) -> sqlx::Result<()> {
    let now = now_ms();
    match *effect {
        Effect::Ask { user } => users::ask(conn, user, now).await,
        Effect::Enrol { user } => users::enrol(conn, user, "passcode", now).await,
        Effect::Fail {
            user,
            forget_before,
        } => users::fail(conn, user, now, forget_before).await,
        Effect::LockOut { user, until } => users::lock_out(conn, user, until).await,
    }
}
