//! The command registry: one file per command.

mod allow;
mod audit;
mod cancel;
mod help;
mod jobs;
mod lockouts;
mod ping;
mod revoke;
mod start;
mod status;
mod unlock;
mod users;
mod whoami;

use super::{Dispatcher, context::Context, effect::Effect};

/// Who may run a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Every allowed user.
    Ordinary,
    /// Every allowed user with an open session (/auth).
    Sensitive,
    /// Owners with an open session: the tools that show or change who may
    /// use the bot.
    Owner,
}

/// A command as users see it in /help and in Telegram's command menu.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub name: &'static str,
    /// How its arguments are written in /help, or "".
    pub usage: &'static str,
    pub description: &'static str,
    pub level: Level,
}

const fn spec(
    name: &'static str,
    usage: &'static str,
    description: &'static str,
    level: Level,
) -> CommandSpec {
    CommandSpec {
        name,
        usage,
        description,
        level,
    }
}

/// Every command, in the order /help lists them.
pub const COMMANDS: &[CommandSpec] = &[
    spec("start", "", "introduce the bot", Level::Ordinary),
    spec("help", "", "list the commands you may use", Level::Ordinary),
    spec("ping", "", "check that the bot answers", Level::Ordinary),
    spec(
        "status",
        "",
        "uptime, version and queue depths",
        Level::Ordinary,
    ),
    spec(
        "whoami",
        "",
        "your user id and this chat's id",
        Level::Ordinary,
    ),
    spec(
        "auth",
        "CODE",
        "open a session for sensitive commands",
        Level::Ordinary,
    ),
    spec("logout", "", "close your session", Level::Ordinary),
    spec(
        "jobs",
        "",
        "your recent relay commands and how they ended",
        Level::Ordinary,
    ),
    spec(
        "cancel",
        "",
        "stop your running relay commands",
        Level::Ordinary,
    ),
    spec("users", "", "who may use the bot", Level::Owner),
    spec(
        "allow",
        "ID [owner]",
        "let a user in, or make them an owner",
        Level::Owner,
    ),
    spec(
        "revoke",
        "ID",
        "remove a user and close their session",
        Level::Owner,
    ),
    spec("audit", "[N]", "the last N decisions (20)", Level::Owner),
    spec(
        "lockouts",
        "",
        "users locked out after wrong codes",
        Level::Owner,
    ),
    spec("unlock", "ID", "lift a user's lockout", Level::Owner),
];

/// Commands about relay jobs: listed (in /help and the menu) only when
/// COMMANDS_FILE declares commands.
pub const RELAY_TOOLS: [&str; 2] = ["jobs", "cancel"];

/// Whether `spec` is listed, given whether relay commands are declared.
pub fn listed(spec: &CommandSpec, relay: bool) -> bool {
    relay || !RELAY_TOOLS.contains(&spec.name)
}

/// The command named `name`, if there is one.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// What a command answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    /// For the audit row: what happened, never the arguments.
    pub outcome: String,
    pub effects: Vec<Effect>,
}

impl Reply {
    /// A plain answer that changes nothing.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            outcome: "ok".to_owned(),
            effects: Vec::new(),
        }
    }

    /// An answer that explains why nothing was done.
    pub fn declined(text: impl Into<String>, outcome: &str) -> Self {
        Self {
            outcome: outcome.to_owned(),
            ..Self::text(text)
        }
    }

    /// An answer with changes to apply.
    pub fn change(text: impl Into<String>, outcome: String, effects: Vec<Effect>) -> Self {
        Self {
            text: text.into(),
            outcome,
            effects,
        }
    }
}

/// Runs a command the caller may run (levels are checked before). `args` is
/// the text after the command.
pub async fn run(
    spec: &CommandSpec,
    args: &str,
    ctx: &Context,
    bot: &Dispatcher,
) -> anyhow::Result<Reply> {
    let reply = match spec.name {
        "start" => Reply::text(start::run(bot)),
        "help" => Reply::text(help::run(ctx, bot).await?),
        "ping" => Reply::text(ping::run()),
        "status" => Reply::text(status::run(bot).await?),
        "whoami" => Reply::text(whoami::run(ctx)),
        "jobs" => Reply::text(jobs::run(ctx, bot).await?),
        "cancel" => Reply::text(cancel::run(ctx, bot)),
        "users" => Reply::text(users::run(bot).await?),
        "allow" => allow::run(args, ctx, bot).await?,
        "revoke" => revoke::run(args, bot).await?,
        "audit" => Reply::text(audit::run(args, bot).await?),
        "lockouts" => Reply::text(lockouts::run(bot).await?),
        "unlock" => unlock::run(args, bot).await?,
        other => anyhow::bail!("/{other} is registered but has no handler"),
    };
    Ok(reply)
}

/// Reads a user id argument: a positive number.
fn user_id_arg(args: &str) -> Option<i64> {
    let first = args.split_whitespace().next()?;
    first.parse::<i64>().ok().filter(|id| *id > 0)
}
