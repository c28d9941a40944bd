//! Relay commands in the chat: who may run which, their arguments, the
//! confirmation a sensitive one needs, and the job that runs it.

use std::sync::Arc;

use super::{Dispatcher, Handled, context::Context, context_entry, effect::Role, reply::refused};
use crate::{
    relay::{
        args,
        buttons::{self, Request},
        service::Slot,
        spec::{Allow, Command, Grant},
        status::{self, Phase},
    },
    store::audit::Decision,
};

/// A job to start once the update that asked for it is committed.
#[derive(Debug)]
pub struct Start {
    pub request: Request,
    pub status: StatusAt,
    /// The callback data of the [Cancel] button on its status message.
    pub cancel_button: String,
    pub slot: Slot,
}

/// Where a job's status is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAt {
    /// The message of the update's call at this index (a new message).
    NewCall(usize),
    /// The message of an earlier call (the confirmation's question).
    Call(i64),
}

/// How long a shown command line may be.
const SHOWN_MAX: usize = 200;

/// How a run is shown: `/logs nginx 50`, or only how many arguments it had
/// when they are secret.
pub fn shown(command: &Command, args: &str) -> String {
    let args = args.trim();
    if command.secret_args && !args.is_empty() {
        let n = command.params.len().max(1);
        let plural = if n == 1 { "" } else { "s" };
        return format!("/{} ({n} secret argument{plural})", command.name);
    }
    let line = if args.is_empty() {
        format!("/{}", command.name)
    } else {
        format!("/{} {args}", command.name)
    };
    match line.char_indices().nth(SHOWN_MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

impl Dispatcher {
    /// Whether `user` may run `command`: every allowed user, or those its
    /// `allow` names by role or id.
    pub(super) async fn may_run(&self, user: i64, command: &Command) -> anyhow::Result<bool> {
        let Allow::Only(grants) = &command.allow else {
            return Ok(true);
        };
        for grant in grants {
            let granted = match *grant {
                Grant::User(id) => id == user,
                // Every allowed user holds the user role; owners hold both.
                Grant::Role(Role::User) => true,
                Grant::Role(Role::Owner) => self.is_owner(user).await?,
            };
            if granted {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `/name args` for relay command `command`, from `user` (allowed).
    pub(super) async fn relay_command(
        &self,
        ctx: &Context,
        user: i64,
        command: Arc<Command>,
        args: &str,
        replied: Option<i32>,
    ) -> anyhow::Result<Handled> {
        let name = command.name.clone();
        if !ctx.chat.is_some_and(|c| c.is_private()) {
            return Ok(refused(
                ctx,
                &name,
                "refused: relay command outside a private chat",
                &format!("Send /{name} in a private chat with me: its output is not for a group."),
            ));
        }
        if !self.may_run(user, &command).await? {
            return Ok(refused(
                ctx,
                &name,
                "refused: not allowed to run it",
                &format!("You may not run /{name}: the commands file allows it to others only."),
            ));
        }
        let file = self.replied_file(ctx, user, &command, replied).await?;
        let argv = match args::build_with_file(&command, args, file.as_deref()) {
            Ok(argv) => argv,
            Err(e) => {
                return Ok(refused(
                    ctx,
                    &name,
                    "refused: invalid arguments",
                    &format!("Nothing was run: {e}"),
                ));
            }
        };
        let mut effects = Vec::new();
        if command.sensitive {
            match self.step_up_gate(ctx, user, &name).await? {
                Ok(touch) => effects.push(touch),
                Err(refusal) => return Ok(refusal),
            }
        }
        let chat = ctx.chat_id().expect("a private chat");
        let request = Request {
            shown: shown(&command, args),
            command: command.clone(),
            argv,
            user,
            chat,
        };
        let mut handled = if command.sensitive || command.confirm {
            self.ask(ctx, request)
        } else {
            match self.relay.reserve(user) {
                Ok(slot) => start_new(ctx, request, slot),
                Err(busy) => {
                    return Ok(refused(
                        ctx,
                        &name,
                        "refused: relay limit reached",
                        &format!("Not started: {busy}"),
                    ));
                }
            }
        };
        handled.effects.extend(effects);
        // Secret arguments leave no trace of the message in the database files.
        handled.scrub = command.secret_args;
        Ok(handled)
    }

    /// A [Run] [Cancel] question for `request`.
    fn ask(&self, ctx: &Context, request: Request) -> Handled {
        let expires_at = self.clock.now_ms() + status::millis(self.relay.settings.confirm_timeout);
        let chat = request.chat;
        let text = format!(
            "Run {}? This works for {} and only for you.",
            status::escape(&request.shown),
            crate::timefmt::span(status::millis(self.relay.settings.confirm_timeout))
        );
        let name = request.command.name.clone();
        let (id, question) = self.relay.buttons.ask(request, expires_at);
        let (run, decline) = question.tokens();
        let markup = status::keyboard(&[("Run", run), ("Cancel", decline)]);
        let mut handled = Handled::new(context_entry(
            ctx,
            Some(&name),
            Decision::Allowed,
            "asked to confirm",
        ));
        handled.calls = vec![status::send(chat, &text, Some(markup))];
        handled.question = Some((id, expires_at));
        handled
    }
}

/// A job whose status goes in a new message.
fn start_new(ctx: &Context, request: Request, slot: Slot) -> Handled {
    let cancel_button = buttons::token();
    let text = status::text(Phase::Running, &request.shown, "starting", "", "");
    let markup = status::keyboard(&[("Cancel", &cancel_button)]);
    let name = request.command.name.clone();
    let mut handled = Handled::new(context_entry(
        ctx,
        Some(&name),
        Decision::Allowed,
        "job started",
    ));
    handled.calls = vec![status::send(request.chat, &text, Some(markup))];
    handled.start = Some(Start {
        request,
        status: StatusAt::NewCall(0),
        cancel_button,
        slot,
    });
    handled
}
