//! The command line: `serve` (the default) and `sandbox`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use anyhow::{Context, bail};

use crate::{app, config::Config, logging, sandbox, store};

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
    /// The audit trail, in the database named by DATABASE_URL.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain: exits 1 and names the row when one was edited or
    /// deleted after it was written.
    Verify,
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
        Command::Audit {
            action: AuditAction::Verify,
        } => runtime.block_on(audit_verify()),
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
        [
            Some(&config.bot_token),
            Some(&config.webhook_secret),
            config.enrollment_passcode.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|s| s.expose().to_owned())
        .collect(),
    );
    app::run(config).await
}

async fn audit_verify() -> anyhow::Result<()> {
    let path = Config::database_path_from_env()?;
    if !path.exists() {
        bail!(
            "there is no database at {} (set DATABASE_URL to the one telegate serve uses)",
            path.display()
        );
    }
    let db = store::open(&path).await?;
    let verdict = store::audit_chain::verify(&db)
        .await
        .context("cannot read the audit trail")?;
    db.close().await;
    if let Some(problem) = verdict.problem {
        bail!("the audit trail has been tampered with: {problem}");
    }
    let start = verdict.starts_after.map_or_else(String::new, |id| {
        format!(", starting after pruned row {id}")
    });
    println!("audit trail intact: {} row(s) checked{start}", verdict.rows);
    Ok(())
}
