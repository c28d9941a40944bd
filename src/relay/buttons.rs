//! The relay's buttons: [Run] [Cancel] under a confirmation, [Cancel] under
//! a running job. A button's callback data is an opaque random id that only
//! this table gives a meaning to: there is nothing to sign, parse or forge.
//! A confirmation works once, for the user who asked, in the chat where they
//! asked, until it expires.
//!
//! The table lives in memory: a restart forgets every button, and pressing
//! one then is answered as no longer valid (nothing runs).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use super::{args::Argv, spec::Command};

/// What a confirmed run will start with.
#[derive(Clone)]
pub struct Request {
    pub command: Arc<Command>,
    pub argv: Argv,
    /// How the run is shown ("/logs nginx 50").
    pub shown: String,
    pub user: i64,
    pub chat: i64,
}

// The arguments may be secret: only the command is shown.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("command", &self.command.name)
            .field("user", &self.user)
            .field("chat", &self.chat)
            .finish_non_exhaustive()
    }
}

/// A question waiting for [Run] or [Cancel].
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub request: Request,
    /// When it stops working (unix ms).
    pub expires_at: i64,
    /// The outbox call that sent the question, once known: the job's status
    /// is shown in the same message, and an expired question loses its buttons.
    pub prompt_call: Option<i64>,
    run: String,
    decline: String,
}

impl Confirmation {
    /// The callback data of [Run] and [Cancel].
    pub fn tokens(&self) -> (&str, &str) {
        (&self.run, &self.decline)
    }
}

/// What a token stands for.
#[derive(Debug, Clone)]
enum Meaning {
    Run(u64),
    Decline(u64),
    CancelJob { job: i64, user: i64, chat: i64 },
}

/// What pressing a button came to.
#[derive(Debug)]
pub enum Press {
    /// Not a button of ours, or one already used or forgotten.
    Unknown,
    /// A button of someone else's question or job: nothing happens.
    NotYours,
    /// The question expired; its buttons are to be removed.
    Expired(Confirmation),
    /// [Run]: the question is answered and used up.
    Run(Confirmation),
    /// [Cancel] under a question: used up, nothing runs.
    Decline(Confirmation),
    /// [Cancel] under a running job.
    CancelJob(i64),
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, Meaning>,
    questions: HashMap<u64, Confirmation>,
    next: u64,
}

/// The table of live buttons.
#[derive(Default)]
pub struct Buttons {
    inner: Mutex<Inner>,
}

/// A fresh opaque id: 160 random bits in 32 characters.
pub fn token() -> String {
    totp_rs::Secret::generate().to_base32()
}

impl Buttons {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a question; returns its id (for [`Self::set_prompt`] and
    /// [`Self::expire`]) and the question with its two tokens.
    pub fn ask(&self, request: Request, expires_at: i64) -> (u64, Confirmation) {
        let mut inner = self.lock();
        inner.next += 1;
        let id = inner.next;
        let question = Confirmation {
            request,
            expires_at,
            prompt_call: None,
            run: token(),
            decline: token(),
        };
        inner.tokens.insert(question.run.clone(), Meaning::Run(id));
        inner
            .tokens
            .insert(question.decline.clone(), Meaning::Decline(id));
        inner.questions.insert(id, question.clone());
        (id, question)
    }

    /// Forgets a question that was never sent (its update failed).
    pub fn withdraw(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(question) = inner.questions.remove(&id) {
            inner.tokens.remove(&question.run);
            inner.tokens.remove(&question.decline);
        }
    }

    /// Records which outbox call carries question `id`.
    pub fn set_prompt(&self, id: u64, call: i64) {
        if let Some(question) = self.lock().questions.get_mut(&id) {
            question.prompt_call = Some(call);
        }
    }

    /// Removes question `id` if it is still unanswered at `now`, past its
    /// expiry; returns it so its buttons can be removed.
    pub fn expire(&self, id: u64, now: i64) -> Option<Confirmation> {
        let mut inner = self.lock();
        if inner.questions.get(&id)?.expires_at > now {
            return None;
        }
        let question = inner.questions.remove(&id)?;
        inner.tokens.remove(&question.run);
        inner.tokens.remove(&question.decline);
        Some(question)
    }

    /// Makes `token` (from [`token`]) the [Cancel] button of job `job` of
    /// `user` in `chat`.
    pub fn register_cancel(&self, token: &str, job: i64, user: i64, chat: i64) {
        self.lock()
            .tokens
            .insert(token.to_owned(), Meaning::CancelJob { job, user, chat });
    }

    /// Forgets a job's [Cancel] button (the job ended).
    pub fn forget(&self, token: &str) {
        self.lock().tokens.remove(token);
    }

    /// `user` pressed the button with `data` under a message in `chat` at `now`.
    pub fn press(&self, data: &str, user: i64, chat: Option<i64>, now: i64) -> Press {
        let mut inner = self.lock();
        let Some(meaning) = inner.tokens.get(data).cloned() else {
            return Press::Unknown;
        };
        let id = match meaning {
            Meaning::CancelJob {
                job,
                user: owner,
                chat: at,
            } => {
                return if owner == user && chat == Some(at) {
                    Press::CancelJob(job)
                } else {
                    Press::NotYours
                };
            }
            Meaning::Run(id) | Meaning::Decline(id) => id,
        };
        let Some(question) = inner.questions.get(&id) else {
            return Press::Unknown;
        };
        if question.request.user != user || chat != Some(question.request.chat) {
            return Press::NotYours;
        }
        let question = inner.questions.remove(&id).expect("looked up above");
        inner.tokens.remove(&question.run);
        inner.tokens.remove(&question.decline);
        if question.expires_at <= now {
            return Press::Expired(question);
        }
        match meaning {
            Meaning::Run(_) => Press::Run(question),
            _ => Press::Decline(question),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::spec;

    const USER: i64 = 7;
    const CHAT: i64 = 7;

    fn request() -> Request {
        let file = spec::parse(
            "[[command]]\nname = \"up\"\ndescription = \"u\"\nprogram = \"/usr/bin/uptime\"\n",
        )
        .unwrap();
        Request {
            command: Arc::new(file.commands[0].clone()),
            argv: Argv {
                args: Vec::new(),
                stdin: None,
            },
            shown: "/up".into(),
            user: USER,
            chat: CHAT,
        }
    }

    #[test]
    fn a_confirmation_runs_once_for_its_user_in_its_chat() {
        let buttons = Buttons::default();
        let (_, question) = buttons.ask(request(), 1_000);
        let run = question.tokens().0.to_owned();

        assert!(matches!(
            buttons.press(&run, USER + 1, Some(CHAT), 10),
            Press::NotYours
        ));
        assert!(matches!(
            buttons.press(&run, USER, Some(-100), 10),
            Press::NotYours
        ));
        assert!(matches!(
            buttons.press(&run, USER, Some(CHAT), 10),
            Press::Run(_)
        ));
        assert!(matches!(
            buttons.press(&run, USER, Some(CHAT), 10),
            Press::Unknown
        ));
    }

    #[test]
    fn cancel_uses_the_question_up_and_run_then_does_nothing() {
        let buttons = Buttons::default();
        let (_, question) = buttons.ask(request(), 1_000);
        let (run, decline) = (
            question.tokens().0.to_owned(),
            question.tokens().1.to_owned(),
        );

        assert!(matches!(
            buttons.press(&decline, USER, Some(CHAT), 10),
            Press::Decline(_)
        ));
        assert!(matches!(
            buttons.press(&run, USER, Some(CHAT), 10),
            Press::Unknown
        ));
    }

    #[test]
    fn an_expired_question_does_not_run_and_is_forgotten() {
        let buttons = Buttons::default();
        let (id, question) = buttons.ask(request(), 1_000);
        let run = question.tokens().0.to_owned();

        assert!(buttons.expire(id, 999).is_none());
        assert!(matches!(
            buttons.press(&run, USER, Some(CHAT), 1_000),
            Press::Expired(_)
        ));
        assert!(matches!(
            buttons.press(&run, USER, Some(CHAT), 10),
            Press::Unknown
        ));
    }

    #[test]
    fn tokens_are_opaque_and_unguessable() {
        let buttons = Buttons::default();
        let (_, first) = buttons.ask(request(), 1_000);
        let (_, second) = buttons.ask(request(), 1_000);
        let all = [first.tokens(), second.tokens()];
        let tokens: Vec<&str> = all.iter().flat_map(|(a, b)| [*a, *b]).collect();
        for (i, a) in tokens.iter().enumerate() {
            assert_eq!(a.len(), 32);
            assert!(a.len() <= 64, "callback_data holds at most 64 bytes");
            assert!(tokens[i + 1..].iter().all(|b| a != b));
        }
        assert!(matches!(
            buttons.press("1", USER, Some(CHAT), 10),
            Press::Unknown
        ));
    }
}
