//! `/get PATH`: a file from one of DOWNLOAD_DIRS, sent to the chat after a
//! [Send] [Cancel] question; a folder is listed with a button per entry.
//! It needs an open session, asked again at every press. Paths are opened
//! only through [`crate::files::beneath`].

use std::path::{Path, PathBuf};

use frankenstein::types::{CallbackQuery, MaybeInaccessibleMessage};
use serde_json::{Value, json};

use super::{
    Dispatcher, Handled, callback::answer, context::Context, context_entry, effect::Effect,
    reply::refused, session,
};
use crate::{
    disk_space::human,
    files::{
        self, LIST_MAX, LISTING_TIMEOUT,
        beneath::{self, Opened, Refused},
        picks::{Action, New, Press},
    },
    relay::status::millis,
    store::{audit::Decision, outbox::NewCall},
};

const NAME: &str = "get";

/// How much of a name a button shows.
const LABEL_MAX: usize = 48;

impl Dispatcher {
    /// `/get args` from `user` (allowed).
    pub(super) async fn get(
        &self,
        ctx: &Context,
        user: i64,
        args: &str,
    ) -> anyhow::Result<Handled> {
        let downloads = &self.downloads;
        if !downloads.enabled() {
            return Ok(refused(
                ctx,
                NAME,
                "refused: downloads are off",
                "/get is off: the server's DOWNLOAD_DIRS names no folder to send from.",
            ));
        }
        let Some(chat) = ctx.chat.filter(|c| c.is_private()).map(|c| c.id) else {
            return Ok(refused(
                ctx,
                NAME,
                "refused: /get outside a private chat",
                "Send /get in a private chat with me: files are not for a group.",
            ));
        };
        let touch = match self.step_up_gate(ctx, user, NAME).await? {
            Ok(touch) => touch,
            Err(refusal) => return Ok(refusal),
        };
        let path = args.trim();
        let mut handled = if path.is_empty() && downloads.roots.len() > 1 {
            let calls = self.roots_listing(user, chat);
            self.handled(ctx, Decision::Allowed, "listed the folders", calls)
        } else if let Some((root, rel)) = beneath::locate(&downloads.roots, path) {
            let (decision, outcome, calls) = self.open_path(user, chat, root, &rel, true);
            self.handled(ctx, decision, &outcome, calls)
        } else {
            let roots = self.roots_shown();
            refused(
                ctx,
                NAME,
                "refused: outside DOWNLOAD_DIRS",
                &format!("Not sent: {path} is not inside the folders /get sends from ({roots})."),
            )
        };
        handled.effects.push(touch);
        Ok(handled)
    }

    /// A press of one of /get's buttons; `None` when it is not one of them.
    pub(super) async fn download_press(
        &self,
        ctx: &Context,
        query: &CallbackQuery,
        data: &str,
    ) -> anyhow::Result<Option<Handled>> {
        let user = ctx.user_id.unwrap_or_default();
        let message = message_of(query);
        let chat = message.map(|(chat, _)| chat);
        let lane = chat.unwrap_or(user);
        let now = self.clock.now_ms();
        let done = |decision, outcome: &str, notice: &str, mut calls: Vec<NewCall>| {
            let mut handled = Handled::new(super::Entry {
                chat_id: chat,
                ..context_entry(ctx, Some(NAME), decision, outcome)
            });
            calls.insert(0, answer(lane, query, notice));
            handled.calls = calls;
            handled
        };
        let pick = match self.downloads.picks.press(data, user, chat, now) {
            Press::NotOurs => return Ok(None),
            Press::NotYours => {
                let text = "This button is not yours: only the person who asked can press it.";
                return Ok(Some(done(
                    Decision::Refused,
                    "refused: button of another user",
                    text,
                    vec![],
                )));
            }
            Press::Expired(_) => {
                let remove = message.map(|(chat, id)| remove_buttons(chat, id));
                let text = "This button expired; nothing was sent. Send /get again.";
                return Ok(Some(done(
                    Decision::Refused,
                    "refused: button expired",
                    text,
                    remove.into_iter().collect(),
                )));
            }
            Press::Pressed(pick) => pick,
        };
        let shown = self.shown(pick.root, &pick.rel);
        if pick.action == Action::Decline {
            let edit = message.map(|(chat, id)| edit_text(chat, id, &format!("Not sent: {shown}")));
            return Ok(Some(done(
                Decision::Allowed,
                "declined",
                "Not sent.",
                edit.into_iter().collect(),
            )));
        }
        let (effect, refusal) = match self.session_state(user).await? {
            session::State::Open => (Effect::Touch { user }, None),
            session::State::Expired => (Effect::CloseSession { user }, Some(session::EXPIRED)),
            session::State::Closed => (Effect::Touch { user }, Some(session::NEEDS_SESSION)),
        };
        if let Some(text) = refusal {
            let mut handled = done(
                Decision::Refused,
                "refused: no session at the press",
                text,
                vec![],
            );
            if matches!(effect, Effect::CloseSession { .. }) {
                handled.effects.push(effect);
            }
            return Ok(Some(handled));
        }
        let (decision, outcome, mut calls) =
            self.open_path(user, pick.chat, pick.root, &pick.rel, false);
        let notice = if outcome.starts_with("sent") {
            "Sending."
        } else {
            ""
        };
        if pick.action == Action::Send
            && let Some((chat, id)) = message
        {
            let text = if outcome.starts_with("sent") {
                format!("Sending {shown}.")
            } else {
                format!("Not sent: {shown}")
            };
            calls.insert(0, edit_text(chat, id, &text));
        }
        let mut handled = done(decision, &outcome, notice, calls);
        handled.effects.push(effect);
        Ok(Some(handled))
    }

    /// Opens `rel` under root `root`: a folder is listed; a file is asked
    /// about (`ask`) or sent. Returns the decision, the audit outcome and the calls.
    fn open_path(
        &self,
        user: i64,
        chat: i64,
        root: usize,
        rel: &Path,
        ask: bool,
    ) -> (Decision, String, Vec<NewCall>) {
        let downloads = &self.downloads;
        let shown = self.shown(root, rel);
        let refuse = |outcome: &str, text: String| {
            (
                Decision::Refused,
                outcome.to_owned(),
                vec![text_call(chat, &text, None)],
            )
        };
        let (file, size) = match beneath::open(&downloads.roots[root], rel) {
            Ok(Opened::Dir(dir)) => return self.listing(user, chat, root, rel, &dir),
            Ok(Opened::File(file, size)) => (file, size),
            Err(Refused::Outside) => {
                let text = format!("Not sent: {shown} leads outside the folders /get sends from.");
                return refuse("refused: leads outside DOWNLOAD_DIRS", text);
            }
            Err(e) => return refuse(&format!("refused: {e}"), format!("Not sent: {shown}: {e}.")),
        };
        drop(file);
        if size > downloads.max_bytes {
            let text = format!(
                "Not sent: {shown} is {}, over the limit of {} (DOWNLOAD_MAX_BYTES).",
                human(size),
                human(downloads.max_bytes)
            );
            return refuse("refused: over the size limit", text);
        }
        if ask {
            let expires_at = self.clock.now_ms() + millis(downloads.confirm_timeout);
            let new = |action| New {
                action,
                rel: rel.to_owned(),
            };
            let tokens = downloads.picks.make(
                user,
                chat,
                root,
                vec![new(Action::Send), new(Action::Decline)],
                expires_at,
                self.clock.now_ms(),
            );
            let markup = json!({ "inline_keyboard": [[
                { "text": "Send", "callback_data": tokens[0] },
                { "text": "Cancel", "callback_data": tokens[1] },
            ]] });
            let text = format!(
                "Send {shown} ({})? This works for {} and only for you.",
                human(size),
                crate::timefmt::span(millis(downloads.confirm_timeout))
            );
            let outcome = format!("asked to confirm sending {shown}");
            return (
                Decision::Allowed,
                outcome,
                vec![text_call(chat, &text, Some(markup))],
            );
        }
        let call = files::send_call(
            chat,
            &downloads.roots[root],
            rel,
            downloads.max_bytes,
            json!({}),
        );
        (
            Decision::Allowed,
            format!("sent {shown} ({size} bytes)"),
            vec![call],
        )
    }

    /// A folder's entries, each a button.
    fn listing(
        &self,
        user: i64,
        chat: i64,
        root: usize,
        rel: &Path,
        dir: &std::os::fd::OwnedFd,
    ) -> (Decision, String, Vec<NewCall>) {
        let shown = self.shown(root, rel);
        let (entries, total) = match beneath::list(dir, LIST_MAX) {
            Ok(listed) => listed,
            Err(e) => {
                let text = format!("Cannot list {shown}: {e}.");
                return (
                    Decision::Refused,
                    format!("refused: {e}"),
                    vec![text_call(chat, &text, None)],
                );
            }
        };
        let mut text = if total > entries.len() {
            format!(
                "{shown}: {total} entries, the first {} shown.",
                entries.len()
            )
        } else {
            format!("{shown}: {total} entries.")
        };
        let mut news = Vec::new();
        let mut labels = Vec::new();
        if !rel.as_os_str().is_empty() {
            news.push(New {
                action: Action::Open,
                rel: rel.parent().map(Path::to_owned).unwrap_or_default(),
            });
            labels.push("⬆ ..".to_owned());
        }
        for entry in &entries {
            let label = label(entry);
            text.push('\n');
            text.push_str(&label);
            news.push(New {
                action: Action::Open,
                rel: rel.join(&entry.name),
            });
            labels.push(label);
        }
        if entries.is_empty() {
            text.push_str("\n(empty)");
        }
        let now = self.clock.now_ms();
        let tokens =
            self.downloads
                .picks
                .make(user, chat, root, news, now + millis(LISTING_TIMEOUT), now);
        let rows: Vec<Value> = labels
            .iter()
            .zip(&tokens)
            .map(|(label, token)| json!([{ "text": label, "callback_data": token }]))
            .collect();
        let markup = (!rows.is_empty()).then(|| json!({ "inline_keyboard": rows }));
        (
            Decision::Allowed,
            format!("listed {shown}"),
            vec![text_call(chat, &text, markup)],
        )
    }

    /// The roots themselves, when there are several and no path was given.
    fn roots_listing(&self, user: i64, chat: i64) -> Vec<NewCall> {
        let roots = &self.downloads.roots;
        let now = self.clock.now_ms();
        let expires_at = now + millis(LISTING_TIMEOUT);
        let mut rows = Vec::new();
        for (i, root) in roots.iter().enumerate() {
            let new = vec![New {
                action: Action::Open,
                rel: PathBuf::new(),
            }];
            let token = self
                .downloads
                .picks
                .make(user, chat, i, new, expires_at, now)
                .remove(0);
            rows.push(json!([{ "text": root.display().to_string(), "callback_data": token }]));
        }
        let text = "The folders /get sends from:";
        let markup = json!({ "inline_keyboard": rows });
        vec![text_call(chat, text, Some(markup))]
    }

    fn handled(
        &self,
        ctx: &Context,
        decision: Decision,
        outcome: &str,
        calls: Vec<NewCall>,
    ) -> Handled {
        let mut handled = Handled::new(context_entry(ctx, Some(NAME), decision, outcome));
        handled.calls = calls;
        handled
    }

    /// How a path is shown: its root joined with the part below.
    fn shown(&self, root: usize, rel: &Path) -> String {
        self.downloads.roots[root].join(rel).display().to_string()
    }

    fn roots_shown(&self) -> String {
        let roots: Vec<String> = self
            .downloads
            .roots
            .iter()
            .map(|r| r.display().to_string())
            .collect();
        roots.join(", ")
    }
}

/// A listing's line and button: `name/` for a folder, `name (size)` for a file.
fn label(entry: &beneath::Entry) -> String {
    let name: String = match entry.name.char_indices().nth(LABEL_MAX) {
        Some((cut, _)) => format!("{}…", &entry.name[..cut]),
        None => entry.name.clone(),
    };
    match (entry.is_dir, entry.size) {
        (true, _) => format!("📁 {name}/"),
        (false, Some(size)) => format!("{name} ({})", human(size)),
        (false, None) => format!("{name} (link or special file)"),
    }
}

fn text_call(chat: i64, text: &str, markup: Option<Value>) -> NewCall {
    let mut params = json!({ "chat_id": chat, "text": text });
    if let Some(markup) = markup {
        params["reply_markup"] = markup;
    }
    NewCall::new(chat, "sendMessage", params)
}

fn edit_text(chat: i64, message_id: i32, text: &str) -> NewCall {
    NewCall::new(
        chat,
        "editMessageText",
        json!({ "chat_id": chat, "message_id": message_id, "text": text }),
    )
}

fn remove_buttons(chat: i64, message_id: i32) -> NewCall {
    NewCall::new(
        chat,
        "editMessageReplyMarkup",
        json!({ "chat_id": chat, "message_id": message_id }),
    )
}

fn message_of(query: &CallbackQuery) -> Option<(i64, i32)> {
    match query.message.as_ref()? {
        MaybeInaccessibleMessage::Message(m) => Some((m.chat.id, m.message_id)),
        MaybeInaccessibleMessage::InaccessibleMessage(m) => Some((m.chat.id, m.message_id)),
    }
}
