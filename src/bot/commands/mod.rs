//! The command registry: one file per command.

mod help;
mod ping;
mod start;
mod status;
mod whoami;

use super::{Dispatcher, context::Context};

/// A command as users see it in /help and in Telegram's command menu.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub name: &'static str,
    pub description: &'static str,
}

/// Every command, in the order /help lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "start",
        description: "introduce the bot",
    },
    CommandSpec {
        name: "help",
        description: "list the commands you may use",
    },
    CommandSpec {
        name: "ping",
        description: "check that the bot answers",
    },
    CommandSpec {
        name: "status",
        description: "uptime, version and queue depths",
    },
    CommandSpec {
        name: "whoami",
        description: "your user id and this chat's id",
    },
];

/// Runs a command for an allowed user; `None` when there is no such command.
/// `_args` is the text after the command (none of today's commands takes any).
pub async fn run(
    name: &str,
    _args: &str,
    ctx: &Context,
    bot: &Dispatcher,
) -> anyhow::Result<Option<String>> {
    let reply = match name {
        "start" => start::run(bot),
        "help" => help::run(),
        "ping" => ping::run(),
        "status" => status::run(bot).await?,
        "whoami" => whoami::run(ctx),
        _ => return Ok(None),
    };
    Ok(Some(reply))
}
