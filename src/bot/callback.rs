//! Buttons pressed (callback queries). Every one is answered with
//! answerCallbackQuery, also when it is stale, forged or someone else's, so
//! no client is left with a spinner; only a button of ours, pressed by the
//! person it was made for in its chat, does anything.

use std::sync::Arc;

use frankenstein::types::{CallbackQuery, MaybeInaccessibleMessage};
use serde_json::json;

use super::{
    Dispatcher, Handled, REFUSAL, context::Context, context_entry, relay::Start, relay::StatusAt,
    session,
};
use crate::{
    relay::{
        buttons::{self, Confirmation, Press},
        status::{self, Phase},
    },
    store::{audit::Decision, outbox::NewCall},
};

/// The chat and message a button was under, when Telegram says.
fn message_of(query: &CallbackQuery) -> Option<(i64, i32)> {
    match query.message.as_ref()? {
        MaybeInaccessibleMessage::Message(m) => Some((m.chat.id, m.message_id)),
        MaybeInaccessibleMessage::InaccessibleMessage(m) => Some((m.chat.id, m.message_id)),
    }
}

/// answerCallbackQuery, with a short notice (Telegram shows up to 200 characters).
pub(super) fn answer(to: i64, query: &CallbackQuery, text: &str) -> NewCall {
    let text: String = text.chars().take(200).collect();
    NewCall::new(
        to,
        "answerCallbackQuery",
        json!({ "callback_query_id": query.id, "text": text }),
    )
}

impl Dispatcher {
    pub(super) async fn on_callback(
        &self,
        ctx: &Context,
        allowed: bool,
        query: &CallbackQuery,
    ) -> anyhow::Result<Handled> {
        let user = ctx.user_id.unwrap_or_default();
        let message = message_of(query);
        let chat = message.map(|(chat, _)| chat);
        // The answer goes with the chat's other calls, in order.
        let lane = chat.unwrap_or(user);
        let decided = |decision: Decision, outcome: &str, text: &str, more: Vec<NewCall>| {
            let mut handled = Handled::new(super::Entry {
                chat_id: chat,
                ..context_entry(ctx, None, decision, outcome)
            });
            handled.calls = std::iter::once(answer(lane, query, text))
                .chain(more)
                .collect();
            handled
        };
        if !allowed {
            return Ok(decided(
                Decision::Refused,
                "refused: button",
                REFUSAL,
                Vec::new(),
            ));
        }
        let Some(data) = query.data.as_deref() else {
            return Ok(decided(
                Decision::Allowed,
                "button without data",
                "",
                Vec::new(),
            ));
        };
        if let Some(handled) = self.download_press(ctx, query, data).await? {
            return Ok(handled);
        }
        let now = self.clock.now_ms();
        let handled = match self.relay.buttons.press(data, user, chat, now) {
            Press::Unknown => {
                // A used, expired or forged button: its keyboard goes.
                let remove = message.map(|(chat, message_id)| {
                    NewCall::new(
                        chat,
                        "editMessageReplyMarkup",
                        json!({ "chat_id": chat, "message_id": message_id }),
                    )
                });
                decided(
                    Decision::Refused,
                    "refused: unknown or used button",
                    "This button no longer works; nothing was run.",
                    remove.into_iter().collect(),
                )
            }
            Press::NotYours => decided(
                Decision::Refused,
                "refused: button of another user",
                "This button is not yours: only the person who asked can press it.",
                Vec::new(),
            ),
            Press::Expired(question) => {
                let detail = "not run: not confirmed in time";
                decided(
                    Decision::Refused,
                    "refused: confirmation expired",
                    "This confirmation expired; nothing was run. Send the command again.",
                    close(&question, Phase::NotStarted, detail),
                )
            }
            Press::Decline(question) => decided(
                Decision::Allowed,
                "declined",
                "Not run.",
                close(&question, Phase::Cancelled, "not run: you pressed Cancel"),
            ),
            Press::CancelJob(job) => {
                let text = if self.relay.cancel(job) {
                    "Cancelling: the command gets SIGTERM now, SIGKILL 5 s later."
                } else {
                    "That command has ended already."
                };
                decided(Decision::Allowed, "cancel pressed", text, Vec::new())
            }
            Press::Run(question) => return self.confirmed(question, decided).await,
        };
        Ok(handled)
    }

    /// [Run] pressed by the person who asked, in time.
    async fn confirmed(
        &self,
        question: Confirmation,
        decided: impl Fn(Decision, &str, &str, Vec<NewCall>) -> Handled,
    ) -> anyhow::Result<Handled> {
        let request = &question.request;
        let user = request.user;
        // The file may have been re-read, or the user's role changed, since
        // the question was asked: it runs only as things are now.
        let current = self.relay.catalog().find(&request.command.name);
        let unchanged = current.is_some_and(|c| Arc::ptr_eq(&c, &request.command));
        if !unchanged || !self.may_run(user, &request.command).await? {
            return Ok(decided(
                Decision::Refused,
                "refused: the command changed since the question",
                "Not run: the command or your permission to run it changed since you asked. Send it again.",
                close(&question, Phase::NotStarted, "not run: the command changed"),
            ));
        }
        let mut effects = Vec::new();
        if request.command.sensitive {
            match self.session_state(user).await? {
                session::State::Open => effects.push(super::Effect::Touch { user }),
                state => {
                    let detail = "not run: your session is not open";
                    let text = match state {
                        session::State::Expired => session::EXPIRED,
                        _ => session::NEEDS_SESSION,
                    };
                    return Ok(decided(
                        Decision::Refused,
                        "refused: no session at confirmation",
                        text,
                        close(&question, Phase::NotStarted, detail),
                    ));
                }
            }
        }
        let slot = match self.relay.reserve(user) {
            Ok(slot) => slot,
            Err(busy) => {
                let detail = format!("not started: {busy}");
                return Ok(decided(
                    Decision::Refused,
                    "refused: relay limit reached",
                    "Not started: too many commands are running.",
                    close(&question, Phase::NotStarted, &detail),
                ));
            }
        };
        let cancel_button = buttons::token();
        let text = status::text(Phase::Running, &request.shown, "starting", "", "");
        let markup = status::keyboard(&[("Cancel", &cancel_button)]);
        let (more, at) = match question.prompt_call {
            Some(of) => (
                vec![status::edit(request.chat, of, &text, Some(markup))],
                StatusAt::Call(of),
            ),
            None => (
                vec![status::send(request.chat, &text, Some(markup))],
                // After the answer, which is the update's first call.
                StatusAt::NewCall(1),
            ),
        };
        let mut handled = decided(
            Decision::Allowed,
            "confirmed; job started",
            "Running.",
            more,
        );
        handled.entry.command = Some(request.command.name.clone());
        handled.effects = effects;
        handled.start = Some(Start {
            request: question.request.clone(),
            status: at,
            cancel_button,
            slot,
        });
        Ok(handled)
    }
}

/// The question's message, its buttons removed, saying how it ended.
fn close(question: &Confirmation, phase: Phase, detail: &str) -> Vec<NewCall> {
    let request = &question.request;
    let text = status::text(phase, &request.shown, detail, "", "");
    question
        .prompt_call
        .map(|of| status::edit(request.chat, of, &text, None))
        .into_iter()
        .collect()
}
