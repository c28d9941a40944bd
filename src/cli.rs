//! The command line: `serve` (the default) and `sandbox`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{app, config::Config, logging, sandbox};

/// A secure, self-hosted Telegram bot server.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the webhook (the default). Configured by the environment and .env.
    Serve,
    /// Chat with the bot from the terminal, against a Telegram stand-in built
    /// into the binary. No token and no network needed.
    Sandbox {
        /// Keep the conversation in this database file (default: a temporary one).
        #[arg(long, value_name = "PATH")]
        database: Option<PathBuf>,
    },
}

pub fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("telegate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve()),
        Command::Sandbox { database } => runtime.block_on(sandbox::run(database)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("telegate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    logging::init(
        &config.log_level,
        config.log_format,
        vec![
            config.bot_token.expose().to_owned(),
            config.webhook_secret.expose().to_owned(),
        ],
    );
    app::run(config).await
}
