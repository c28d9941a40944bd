//! The dispatcher: turns a stored update into a decision, the replies it
//! causes and an audit row, and commits the three together.

pub mod access;
mod callback;
pub mod command;
pub mod commands;
pub mod context;
pub mod effect;
pub mod enrol;
pub mod flood;
mod get;
pub mod guard;
pub mod relay;
mod reply;
pub mod session;
pub mod typed;
mod upload;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use frankenstein::updates::{Update, UpdateContent};
use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::{
    clock::Clock,
    config::Secret,
    store::{
        self, Db,
        audit::{self, Decision, Entry},
        flood_drops,
        inbox::{self, Finish, PendingUpdate},
        outbox::{self, NewCall},
    },
    telegram::register::BotIdentity,
};
use access::Access;
use command::Parsed;
use commands::Level;
use context::Context;
use effect::Effect;
use session::StepUp;

/// The one short refusal strangers get. It carries no data.
pub const REFUSAL: &str = "Sorry, this is a private bot.";

/// The refusal in a stranger's private chat, with their own user id: the
/// owner needs it for /allow, and the operator for BOT_OWNER_ID.
pub fn refusal(user: i64) -> String {
    format!("{REFUSAL} (Your user id: {user}.)")
}

pub struct Dispatcher {
    pub db: Db,
    /// The read-only pool, for reading payloads beside the writer.
    pub reads: Db,
    pub access: Access,
    /// The passcode strangers enrol with; `None`: enrolment is off.
    pub passcode: Option<Secret>,
    pub guard: Guard,
    pub step_up: StepUp,
    pub clock: Clock,
    pub flood: flood::Flood,
    pub metrics: crate::metrics::Metrics,
    pub identity: watch::Receiver<Option<BotIdentity>>,
    pub started: Instant,
    /// Signalled when replies are queued.
    pub outbox_wake: Arc<Notify>,
    /// Wipes secrets from the database files after an update that held one.
    pub scrubber: Arc<crate::scrub::Scrubber>,
    /// Whether the database can be written; every commit reports to it.
    pub faults: Arc<store::fault::Faults>,
    /// The operator's commands and their jobs.
    pub relay: Arc<crate::relay::service::Relay>,
    /// Files from the phone (UPLOAD_DIR).
    pub uploads: Arc<crate::files::Uploads>,
    /// What /get may send (DOWNLOAD_DIRS).
    pub downloads: Arc<crate::files::Downloads>,
}

/// The brute-force guard's settings: `after` wrong codes within `window`
/// lock a user out for `duration`.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    pub after: u32,
    pub window: Duration,
    pub duration: Duration,
    /// Wrong enrolment passcodes from anyone within an hour that pause
    /// enrolment for an hour.
    pub enrolment_wrong_per_hour: u32,
}

/// What was decided about one update.
#[derive(Debug)]
pub struct Handled {
    pub entry: Entry,
    /// Further audit rows, written before `entry` (an expired session).
    pub more: Vec<Entry>,
    pub calls: Vec<NewCall>,
    pub finish: Finish,
    /// Changes to who may use the bot, written in the same transaction.
    pub effects: Vec<Effect>,
    /// The update carried a secret: wipe its traces from the database files.
    pub scrub: bool,
    /// A flood drop: instead of `entry`, the drop is counted in its sender's
    /// tally, which housekeeping writes as one audit row a minute (a flood
    /// of thousands costs a few rows, none of them unaccounted for).
    pub tallied: bool,
    /// A relay job to start once this is committed.
    pub start: Option<relay::Start>,
    /// A confirmation question this sends (its first call), with when it
    /// expires: its buttons work once the question is committed.
    pub question: Option<(u64, i64)>,
    /// A file to fetch once this is committed.
    pub upload: Option<crate::files::Upload>,
}

impl Handled {
    /// A decision with its audit row and nothing else.
    pub fn new(entry: Entry) -> Self {
        Self {
            entry,
            more: Vec::new(),
            calls: Vec::new(),
            finish: Finish::Done,
            effects: Vec::new(),
            scrub: false,
            tallied: false,
            start: None,
            question: None,
            upload: None,
        }
    }
}

/// What a commit wrote that the caller acts on afterwards.
struct Committed {
    /// The ids of the update's calls, in order.
    calls: Vec<i64>,
    /// The job written, and the call of its status message.
    job: Option<(i64, i64)>,
    /// The upload written (pending).
    upload: Option<i64>,
}

impl Dispatcher {
    /// Handles one update and commits its replies, audit row and completion
    /// in one transaction: a crash leaves either all three or none. The same
    /// transaction counts the first attempt of `claim_next`, the update the
    /// caller takes on next, which saves that update a commit of its own.
    /// Returns whether that attempt was counted.
    pub async fn handle(
        &self,
        update: &PendingUpdate,
        claim_next: Option<i64>,
    ) -> anyhow::Result<bool> {
        let Some(payload) = inbox::payload(&self.reads, update.update_id).await? else {
            return Ok(false); // Finished already.
        };
        let mut handled = self.decide(update, &payload).await?;
        let committed = match self
            .commit(update.update_id, &handled, None, claim_next)
            .await
        {
            Ok(committed) => committed,
            Err(e) => {
                if let Some((question, _)) = handled.question {
                    self.relay.buttons.withdraw(question);
                }
                return Err(e);
            }
        };
        if let (Some((question, expires_at)), Some(call)) =
            (handled.question, committed.calls.first())
        {
            self.relay.buttons.set_prompt(question, *call);
            self.relay.expire_later(question, expires_at);
        }
        if let (Some(upload), Some(id)) = (handled.upload.take(), committed.upload) {
            self.uploads.launch(id, upload);
        }
        if let (Some(start), Some((job, status_call))) = (handled.start.take(), committed.job) {
            let request = start.request;
            self.relay.buttons.register_cancel(
                &start.cancel_button,
                job,
                request.user,
                request.chat,
            );
            self.relay
                .launch(job, status_call, request, start.cancel_button, start.slot);
        }
        Ok(claim_next.is_some())
    }

    /// Records that an update could not be handled after several tries.
    pub async fn give_up(&self, update: &PendingUpdate, error: &str) -> anyhow::Result<()> {
        // What failed may have held a secret: its payload is dropped, and
        // its old pages wiped.
        let handled = Handled {
            finish: Finish::Failed,
            scrub: true,
            ..Handled::new(entry(
                update.update_id,
                &update.kind,
                None,
                Decision::Allowed,
                "failed",
            ))
        };
        self.commit(update.update_id, &handled, Some(error), None)
            .await
            .map(|_| ())
    }

    /// Our @username, from getMe.
    pub fn username(&self) -> String {
        self.identity
            .borrow()
            .as_ref()
            .map(|i| i.username.clone())
            .unwrap_or_default()
    }

    async fn commit(
        &self,
        update_id: i64,
        handled: &Handled,
        error: Option<&str>,
        claim_next: Option<i64>,
    ) -> anyhow::Result<Committed> {
        // One connection from begin to scrub: nothing reads the files between.
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let calls = outbox::insert(&mut tx, Some(update_id), &handled.calls).await?;
        let job = match &handled.start {
            Some(start) => {
                let status_call = match start.status {
                    relay::StatusAt::NewCall(index) => *calls
                        .get(index)
                        .context("a job's status message is one of its update's calls")?,
                    relay::StatusAt::Call(id) => id,
                };
                let request = &start.request;
                let new = store::jobs::NewJob {
                    command: &request.command.name,
                    user_id: request.user,
                    chat_id: request.chat,
                    shown: &request.shown,
                    status_call,
                };
                Some((store::jobs::create(&mut tx, &new).await?, status_call))
            }
            None => None,
        };
        let upload = match &handled.upload {
            Some(upload) => Some(store::uploads::queue(&mut tx, &upload.pending()).await?),
            None => None,
        };
        let now = self.clock.now_ms();
        let entry = match (handled.tallied, handled.entry.user_id) {
            (true, Some(user)) => {
                flood_drops::count(&mut tx, user, update_id, now).await?;
                None
            }
            _ => Some(&handled.entry),
        };
        for row in handled.more.iter().chain(entry) {
            audit::insert(&mut tx, row).await?;
        }
        for effect in &handled.effects {
            effect.apply(&mut tx, now).await?;
        }
        inbox::finish(&mut tx, update_id, handled.finish, error).await?;
        if let Some(next) = claim_next {
            inbox::count_attempt(&mut tx, next, 1).await?;
        }
        tx.commit().await.context("committing a handled update")?;
        if handled.scrub {
            self.scrubber.now(&mut conn).await;
        }
        if !handled.calls.is_empty() {
            self.outbox_wake.notify_one();
        }
        self.metrics.count(
            "telegate_updates_total",
            &[
                ("kind", &handled.entry.kind),
                ("decision", handled.entry.decision.as_str()),
            ],
        );
        Ok(Committed { calls, job, upload })
    }

    async fn decide(&self, update: &PendingUpdate, payload: &str) -> anyhow::Result<Handled> {
        let typed: Update = match serde_json::from_str(payload) {
            Ok(typed) => typed,
            Err(e) => {
                tracing::info!(update_id = update.update_id, kind = %update.kind, error = %e, "update kind or shape not supported; recorded");
                let outcome = format!("typed parse failed: {e}");
                return Ok(Handled {
                    finish: Finish::Unsupported,
                    ..Handled::new(entry(
                        update.update_id,
                        &update.kind,
                        None,
                        Decision::Unsupported,
                        &outcome,
                    ))
                });
            }
        };
        let ctx = Context::new(update.update_id, &update.kind, &typed);
        if let Some(mut dropped) = self.flood_check(&ctx) {
            if let UpdateContent::CallbackQuery(query) = &typed.content {
                // Even a dropped press is answered: no spinner is left.
                let lane = ctx.user_id.unwrap_or_default();
                dropped.calls.push(callback::answer(lane, query, ""));
            }
            return Ok(dropped);
        }
        let allowed = self.permits(&ctx).await?;
        match &typed.content {
            UpdateContent::Message(message) => {
                if let Some(why) = typed::not_typed(message) {
                    return Ok(not_typed(&ctx, allowed, why));
                }
                if allowed && let Some(upload) = self.attached(&ctx, message) {
                    return self.on_upload(&ctx, upload).await;
                }
                let text = message.text.as_deref().unwrap_or_default();
                match ctx.chat {
                    _ if allowed => self.on_message(&ctx, message, text).await,
                    Some(chat) if chat.is_private() => {
                        self.stranger(&ctx, message.message_id, text).await
                    }
                    _ => Ok(refuse(&ctx)),
                }
            }
            UpdateContent::CallbackQuery(query) => self.on_callback(&ctx, allowed, query).await,
            UpdateContent::MyChatMember(_) if !allowed => {
                let raw: Value = serde_json::from_str(payload)?;
                Ok(on_added_elsewhere(&ctx, &raw["my_chat_member"]))
            }
            _ => Ok(ignored(&ctx, allowed, "no handler for this kind")),
        }
    }

    /// `Some` when the sender is over their limit and the update is dropped.
    fn flood_check(&self, ctx: &Context) -> Option<Handled> {
        let user = ctx.user_id?;
        let outcome = format!("dropped: over {} updates a minute", self.flood.limit());
        match self.flood.check(user, self.clock.now_ms()) {
            flood::Verdict::Handle => None,
            flood::Verdict::Drop => Some(Handled {
                tallied: true,
                ..ignored(ctx, false, &outcome)
            }),
            flood::Verdict::DropAndNotify => {
                let text = format!(
                    "You are sending too much: I handle at most {} messages a minute from you, and drop the rest until the minute is over.",
                    self.flood.limit()
                );
                let mut handled = reply::one(ctx, None, &outcome, &text);
                handled.entry.decision = Decision::Refused;
                Some(handled)
            }
        }
    }

    /// The configured access, or a user who enrolled (in private chats, and
    /// for updates without a chat).
    async fn permits(&self, ctx: &Context) -> anyhow::Result<bool> {
        if self.access.permits(ctx) {
            return Ok(true);
        }
        let user = match ctx.chat {
            Some(chat) if chat.is_private() => Some(chat.id),
            Some(_) => None,
            None => ctx.user_id,
        };
        match user {
            Some(user) => Ok(store::users::role(&self.reads, user).await?.is_some()),
            None => Ok(false),
        }
    }

    /// The owner set by BOT_OWNER_ID, or a user given the owner role.
    pub async fn is_owner(&self, user: i64) -> anyhow::Result<bool> {
        if user == self.access.owner() {
            return Ok(true);
        }
        Ok(store::users::role(&self.reads, user).await?.as_deref() == Some("owner"))
    }

    async fn on_message(
        &self,
        ctx: &Context,
        message: &frankenstein::types::Message,
        text: &str,
    ) -> anyhow::Result<Handled> {
        let message_id = message.message_id;
        let replied = message.reply_to_message.as_ref().map(|m| m.message_id);
        let private = ctx.chat.is_some_and(|c| c.is_private());
        // Arguments reach the command but are never stored or audited.
        let (name, args) = match command::parse(text, &self.username()) {
            Parsed::Command { name, args } => (name, args),
            Parsed::ForAnotherBot => return Ok(ignored(ctx, true, "addressed to another bot")),
            Parsed::Text if private => {
                if let (Some(command), Some(user)) =
                    (self.relay.catalog().text_command.clone(), ctx.user_id)
                    && self.may_run(user, &command).await?
                {
                    return self.relay_command(ctx, user, command, text, replied).await;
                }
                return Ok(reply::one(
                    ctx,
                    None,
                    "ok",
                    "I understand commands only. Send /help to see them.",
                ));
            }
            Parsed::Text => return Ok(ignored(ctx, true, "not a command")),
        };
        if let ("get", Some(user)) = (name.as_str(), ctx.user_id) {
            return self.get(ctx, user, args).await;
        }
        let relayed = self.relay.catalog().find(&name);
        if let (Some(command), Some(user)) = (relayed, ctx.user_id) {
            return self.relay_command(ctx, user, command, args, replied).await;
        }
        let Some(spec) = commands::find(&name) else {
            return Ok(reply::one(
                ctx,
                Some(&name),
                "unknown command",
                &format!("There is no /{name} command. Send /help to see the commands."),
            ));
        };
        let Some(user) = ctx.user_id else {
            return Ok(ignored(ctx, true, "command without a sender"));
        };
        match spec.name {
            "auth" => return self.auth(ctx, user, message_id, args).await,
            "logout" => return self.logout(ctx, user).await,
            _ => {}
        }
        let mut effects = Vec::new();
        if spec.level == Level::Owner && !self.is_owner(user).await? {
            return Ok(reply::refused(
                ctx,
                &name,
                "refused: owner only",
                &format!("/{name} is for the bot's owner only."),
            ));
        }
        if spec.level == Level::Owner && !private {
            return Ok(reply::refused(
                ctx,
                &name,
                "refused: owner tool outside a private chat",
                &format!("Send /{name} in a private chat with me: its answer is not for a group."),
            ));
        }
        if spec.level != Level::Ordinary {
            match self.step_up_gate(ctx, user, &name).await? {
                Ok(touch) => effects.push(touch),
                Err(refusal) => return Ok(refusal),
            }
        }
        let reply = commands::run(spec, args, ctx, self).await?;
        let mut handled = reply::one(ctx, Some(&name), &reply.outcome, &reply.text);
        if user != self.access.owner() && reply.effects.iter().any(Effect::changes_access) {
            // The owner set by BOT_OWNER_ID hears of every change a co-owner makes.
            handled
                .calls
                .push(self.to_owner(format!("Owner {user} ran /{name}: {}.", reply.outcome)));
        }
        effects.extend(reply.effects);
        handled.effects = effects;
        Ok(handled)
    }
}

/// A stranger: one short refusal in a private chat; a group that is not
/// allowed is left.
fn refuse(ctx: &Context) -> Handled {
    match ctx.chat {
        Some(chat) if chat.is_private() => {
            let mut handled = reply::one(ctx, None, "refused", &refusal(chat.id));
            handled.entry.decision = Decision::Refused;
            handled
        }
        Some(chat) => reply::leave(ctx, chat.id),
        None => ignored(ctx, false, "refused"),
    }
}

/// A message the sender did not type (forwarded, via an inline bot, on
/// behalf of a chat): nothing in it is run or checked as a code.
fn not_typed(ctx: &Context, allowed: bool, why: &str) -> Handled {
    let outcome = format!("not run: the message was {why}");
    match ctx.chat {
        Some(chat) if allowed && chat.is_private() => reply::one(
            ctx,
            None,
            &outcome,
            &format!(
                "I take commands only from messages you type yourself; this one was {why}, so nothing in it was run."
            ),
        ),
        Some(_) if allowed => ignored(ctx, true, &outcome),
        _ => {
            let mut handled = refuse(ctx);
            handled.entry.outcome = format!("{}; {outcome}", handled.entry.outcome);
            handled
        }
    }
}

/// The bot's own membership changed in a chat that is not allowed: when it
/// was added, it leaves.
fn on_added_elsewhere(ctx: &Context, change: &Value) -> Handled {
    let status = change["new_chat_member"]["status"]
        .as_str()
        .unwrap_or_default();
    match ctx.chat {
        Some(chat)
            if !chat.is_private()
                && matches!(status, "member" | "administrator" | "restricted") =>
        {
            reply::leave(ctx, chat.id)
        }
        _ => ignored(ctx, false, "membership change noted"),
    }
}

fn ignored(ctx: &Context, allowed: bool, outcome: &str) -> Handled {
    let decision = if allowed {
        Decision::Allowed
    } else {
        Decision::Refused
    };
    Handled::new(context_entry(ctx, None, decision, outcome))
}

fn entry(
    update_id: i64,
    kind: &str,
    command: Option<&str>,
    decision: Decision,
    outcome: &str,
) -> Entry {
    Entry {
        update_id: Some(update_id),
        kind: kind.to_owned(),
        chat_id: None,
        user_id: None,
        command: command.map(str::to_owned),
        decision,
        outcome: outcome.to_owned(),
    }
}

fn context_entry(ctx: &Context, command: Option<&str>, decision: Decision, outcome: &str) -> Entry {
    Entry {
        chat_id: ctx.chat_id(),
        user_id: ctx.user_id,
        ..entry(ctx.update_id, &ctx.kind, command, decision, outcome)
    }
}
