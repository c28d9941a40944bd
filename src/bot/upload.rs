//! Files sent to the bot: from an allowed user in a private chat, stored
//! under UPLOAD_DIR once the update is committed (see `files::service`).
//! A forwarded file is refused before this, like a forwarded command (it
//! is someone else's), and an edited message (a file swapped in a sent
//! message) is not an upload: edits are not handled at all.

use frankenstein::types::Message;

use super::{Dispatcher, Handled, context::Context, reply};
use crate::files::{Upload, upload};

impl Dispatcher {
    /// The file `message` carries, if any.
    pub(super) fn attached(&self, ctx: &Context, message: &Message) -> Option<Upload> {
        let stamp: String = crate::timefmt::utc(self.clock.now_ms())
            .chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                ' ' => Some('-'),
                _ => None,
            })
            .collect();
        let (user, chat) = (ctx.user_id?, ctx.chat_id()?);
        let mut upload = upload::from_message(message, user, chat, &stamp)?;
        upload.then = message
            .caption
            .as_deref()
            .and_then(|caption| self.caption_command(caption));
        Some(upload)
    }

    /// A caption naming a relay command that takes a file. Once the file
    /// is stored, running the command with it is offered as a [Run]
    /// question; the press checks, as every [Run] does, that the user may
    /// still run it (and has a session, for a sensitive one).
    fn caption_command(&self, caption: &str) -> Option<crate::files::FollowUp> {
        let super::command::Parsed::Command { name, args } =
            super::command::parse(caption, &self.username())
        else {
            return None;
        };
        let command = self.relay.catalog().find(&name)?;
        command
            .params
            .iter()
            .any(|p| matches!(p.kind, crate::relay::spec::Kind::Upload))
            .then(|| crate::files::FollowUp {
                command,
                args: args.to_owned(),
            })
    }

    /// A file from an allowed user: refused with the reason, or queued to
    /// be fetched once this update is committed.
    pub(super) async fn on_upload(&self, ctx: &Context, upload: Upload) -> anyhow::Result<Handled> {
        if !ctx.chat.is_some_and(|c| c.is_private()) {
            return Ok(refused(
                ctx,
                "refused: a file outside a private chat",
                "Send files in a private chat with me: uploads are kept per user, not for a group.",
            ));
        }
        if !self.uploads.is_on() {
            return Ok(refused(
                ctx,
                "refused: uploads are off",
                "Uploads are off on this server (UPLOAD_DIR is not set), so the file was not kept.",
            ));
        }
        let max = self.uploads.max_bytes();
        if let Some(size) = upload.size
            && size > max
        {
            return Ok(refused(
                ctx,
                &format!("refused: {size} bytes, over UPLOAD_MAX_BYTES"),
                &upload::too_big(&upload.name, size, max),
            ));
        }
        if let Some(then) = &upload.then
            && !self.may_run(upload.user, &then.command).await?
        {
            let name = &then.command.name;
            return Ok(refused(
                ctx,
                "refused: caption names a command not allowed to the user",
                &format!(
                    "Nothing was stored or run: you may not run /{name}, which the caption names."
                ),
            ));
        }
        let size = upload
            .size
            .map_or_else(|| "size unknown".to_owned(), |s| format!("{s} bytes"));
        let command = upload.then.as_ref().map(|t| t.command.name.clone());
        let mut handled = Handled::new(super::context_entry(
            ctx,
            command.as_deref(),
            crate::store::audit::Decision::Allowed,
            &format!("upload queued: {}, {size}", upload.name),
        ));
        handled.upload = Some(upload);
        Ok(handled)
    }
}

fn refused(ctx: &Context, outcome: &str, text: &str) -> Handled {
    let mut handled = reply::one(ctx, None, outcome, text);
    handled.entry.decision = crate::store::audit::Decision::Refused;
    handled
}

impl Dispatcher {
    /// For a relay command with an upload parameter, sent as a reply to a
    /// message: the absolute path of the file that message carried, when
    /// `user` sent it and it was stored. Someone else's file (the bot's own
    /// documents included) is never given.
    pub(super) async fn replied_file(
        &self,
        ctx: &Context,
        user: i64,
        command: &crate::relay::spec::Command,
        replied: Option<i32>,
    ) -> anyhow::Result<Option<String>> {
        let wants_file = command
            .params
            .iter()
            .any(|p| matches!(p.kind, crate::relay::spec::Kind::Upload));
        let (Some(message), Some(chat), true) = (replied, ctx.chat_id(), wants_file) else {
            return Ok(None);
        };
        let stored =
            crate::store::uploads::path_of(&self.reads, user, chat, i64::from(message)).await?;
        Ok(stored
            .and_then(|path| self.uploads.absolute(&path))
            .map(|path| path.display().to_string()))
    }
}
