//! The command line: `serve` (the default), `poll`, `sandbox`, and the operator's
//! tools, which work on the database named by DATABASE_URL (also while
//! `serve` runs).

mod audit;
mod backup;
mod check;
mod commands;
mod jobs;
mod notify;
mod outbox;
mod owner_id;
mod restore;
mod totp;
mod users;
mod webhook;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use anyhow::bail;

use crate::{
    app,
    config::{self, Config, Intake},
    logging, sandbox, store,
};

/// A secure, self-hosted Telegram bot server.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Read the configuration from this file instead of ./.env, such as the
    /// service's /etc/telegate/telegate.env (run as its user: sudo -u telegate).
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the webhook (the default). Configured by the environment and .env.
    ///
    /// SIGTERM or SIGINT stop it; SIGHUP re-reads COMMANDS_FILE (a file
    /// with problems leaves the commands before in force), and TLS_CERT_FILE
    /// and TLS_KEY_FILE when serve terminates TLS itself.
    Serve,
    /// Fetch updates by long polling instead of a webhook (for development).
    ///
    /// For a machine Telegram cannot reach. Deletes the webhook first (serve
    /// sets it again); WEBHOOK_URL and WEBHOOK_SECRET may be unset. Refused
    /// while serve runs on the same database.
    Poll,
    /// Chat with the bot from the terminal, against a Telegram stand-in built
    /// into the binary. No token and no network needed.
    ///
    /// `/auth sandbox-passcode` opens a session. Edits show as they are made;
    /// buttons show as [1] [2] ...: type a number to press that button.
    Sandbox {
        /// Keep the conversation in this database file (default: a temporary one).
        #[arg(long, value_name = "PATH")]
        database: Option<PathBuf>,
        /// Run the relay commands of this file (as COMMANDS_FILE), checked
        /// first like `telegate commands check`.
        #[arg(long, value_name = "FILE")]
        commands: Option<PathBuf>,
    },
    /// The audit trail: lists decisions, oldest first (or checks the chain
    /// with `audit verify`).
    #[command(args_conflicts_with_subcommands = true)]
    Audit {
        #[command(subcommand)]
        action: Option<AuditAction>,
        #[command(flatten)]
        filter: audit::Filter,
    },
    /// Users let in at run time: list, allow, revoke, unlock.
    Users {
        #[command(subcommand)]
        action: users::Action,
    },
    /// Queue a message for the running server to send (to the owner unless
    /// --chat is given): for cron jobs, CI and backup scripts.
    Notify(notify::Notification),
    /// What waits to be sent (or, with --dead, what was given up on).
    #[command(args_conflicts_with_subcommands = true)]
    Outbox {
        #[command(subcommand)]
        action: Option<outbox::Action>,
        #[command(flatten)]
        listing: outbox::Listing,
    },
    /// The relay's jobs, newest first: id, state, the command line as shown,
    /// user, chat, how it ended, output size, started and ended (UTC).
    Jobs(jobs::Listing),
    /// Copy the database to PATH, consistently, also while serve runs
    /// (`telegate restore PATH` puts it back).
    Backup {
        /// The new file to write (never overwritten).
        path: PathBuf,
    },
    /// Put a backup in place of the database, with serve stopped.
    ///
    /// The backup is checked first (intact, exactly the schema this version
    /// makes, its audit chain whole) and the owners stored in it are listed;
    /// without --yes nothing more happens. The database it replaces is kept
    /// beside it.
    Restore {
        /// A file written by `telegate backup`.
        backup: PathBuf,
        /// Put it in place (after checking it again), once you have seen
        /// what it holds.
        #[arg(long)]
        yes: bool,
    },
    /// Check the configuration without starting: every variable, .env's
    /// mode and owner, the database, and the token (getMe) when the Bot API
    /// can be reached. Exits 1 when a check fails.
    Check,
    /// The relay's commands file (COMMANDS_FILE): `commands check`.
    Commands {
        #[command(subcommand)]
        action: commands::Action,
    },
    /// The webhook as Telegram has it: info, set, delete.
    Webhook {
        #[command(subcommand)]
        action: webhook::Action,
    },
    /// Print the user id of whoever sends the bot a private message next,
    /// for BOT_OWNER_ID. Needs only TELEGRAM_BOT_TOKEN, and no webhook set.
    OwnerId {
        /// How long to wait for the message, in seconds.
        #[arg(long, default_value_t = 120, value_name = "SECONDS")]
        wait: u64,
    },
    /// Print a new TOTP secret, its otpauth:// URI and a QR code for an
    /// authenticator app; set TOTP_SECRET to it and restart.
    TotpSetup {
        /// The account name the app shows.
        #[arg(long, default_value = "owner")]
        account: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain: exits 1 and names the row when one was edited or
    /// deleted after it was written. Prints the head (ID:HASH), which serve
    /// also logs hourly and on shutdown.
    Verify {
        /// A head noted earlier: exits 1 when the trail no longer reaches it
        /// (its newest rows were deleted).
        #[arg(long, value_name = "ID:HASH")]
        head: Option<String>,
    },
}

pub fn run(cli: Cli) -> ExitCode {
    if let Some(path) = cli.env_file {
        config::use_env_file(path);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("telegate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = match cli.command.unwrap_or(Command::Serve) {
        // Its own exit codes: 1 for a bad file, 2 for none to check.
        Command::Commands { action } => return commands::run(action),
        command => command,
    };
    let result = match command {
        Command::Serve => runtime.block_on(serve(Intake::Webhook)),
        Command::Poll => runtime.block_on(serve(Intake::Polling)),
        Command::Sandbox { database, commands } => {
            runtime.block_on(sandbox::run(database, commands))
        }
        Command::Audit {
            action: Some(AuditAction::Verify { head }),
            ..
        } => runtime.block_on(audit::verify(head.as_deref())),
        Command::Audit {
            action: None,
            filter,
        } => runtime.block_on(audit::list(filter)),
        Command::Users { action } => runtime.block_on(users::run(action)),
        Command::TotpSetup { account } => totp::setup(&account),
        Command::OwnerId { wait } => {
            runtime.block_on(owner_id::run(std::time::Duration::from_secs(wait)))
        }
        Command::Backup { path } => runtime.block_on(backup::run(&path)),
        Command::Restore { backup, yes } => runtime.block_on(restore::run(&backup, yes)),
        Command::Check => runtime.block_on(check::run()),
        Command::Jobs(listing) => runtime.block_on(jobs::list(listing)),
        Command::Commands { .. } => unreachable!("handled above"),
        Command::Webhook { action } => runtime.block_on(webhook::run(action)),
        Command::Notify(notification) => runtime.block_on(notify::run(notification)),
        Command::Outbox {
            action: None,
            listing,
        } => runtime.block_on(outbox::list(listing)),
        Command::Outbox {
            action: Some(action),
            ..
        } => runtime.block_on(outbox::run(action)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("telegate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `serve` and `poll`: runs until SIGTERM or SIGINT.
async fn serve(intake: Intake) -> anyhow::Result<()> {
    let config = Config::from_env_for(intake)?;
    logging::init(
        &config.log_level,
        config.log_format,
        [
            Some(&config.bot_token),
            Some(&config.webhook_secret),
            config.enrollment_passcode.as_ref(),
            config.totp_secret.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|s| s.expose().to_owned())
        .collect(),
    );
    app::run(config).await
}

/// The database `serve` uses, which must exist already: the operator's
/// tools never create an empty one by mistake.
pub(crate) async fn open_existing() -> anyhow::Result<store::Db> {
    let path = Config::database_path_from_env()?;
    if !path.exists() {
        bail!(
            "there is no database at {} (set DATABASE_URL to the one telegate serve uses)",
            path.display()
        );
    }
    store::open(&path).await
}
