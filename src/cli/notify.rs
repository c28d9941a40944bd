//! `telegate notify`: a message or a file (`--file`) from a script (cron,
//! CI, backups) through the outbox of the running server, which sends it
//! within its limits; or, with `--now` and no server running, sent from
//! this process.

use std::{io::Read, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;
use tokio::sync::Notify as Wake;
use tokio_util::sync::CancellationToken;

use super::open_existing;
use crate::{
    clock::Clock,
    config::{Config, parse_duration},
    logging,
    store::{
        self, Db,
        audit::{self, Decision, Entry},
        lock::SenderLock,
        outbox::{self, NewCall},
    },
    telegram::{
        BotClient,
        compose::text_calls,
        sender::{Policy, Sender},
    },
};

#[derive(Debug, Args)]
pub struct Notification {
    /// The chat to send to (default: the owner, BOT_OWNER_ID).
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    chat: Option<i64>,
    /// Deliver without a sound.
    #[arg(long)]
    silent: bool,
    /// Send from this process, for when telegate serve is not running (reads
    /// the whole configuration, like serve).
    #[arg(long)]
    now: bool,
    /// With --now: how long to keep trying before leaving it queued.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    wait: String,
    /// Send this file as a document (its size up to DOWNLOAD_MAX_BYTES);
    /// the message, if any, is its caption. telegate serve opens it when it
    /// sends it, so it must stay in place and be readable by serve's user.
    #[arg(long, value_name = "PATH")]
    file: Option<std::path::PathBuf>,
    /// The text, or - to read it from standard input (with --file: the
    /// caption, optional).
    message: Option<String>,
}

pub async fn run(n: Notification) -> anyhow::Result<()> {
    let text = match (&n.message, &n.file) {
        (Some(message), _) => Some(message_text(message)?),
        (None, Some(_)) => None,
        (None, None) => bail!("give the message to send, or - and pipe it in, or --file PATH"),
    };
    let Some(wait) = parse_duration(&n.wait) else {
        bail!(
            "--wait {:?} is not a duration such as 30s, 5m or 1h",
            n.wait
        );
    };
    let chat = match n.chat {
        Some(chat) => chat,
        None => Config::owner_id_from_env()
            .context("no --chat given, and the owner's id is needed instead")?,
    };
    let extra = if n.silent {
        json!({ "disable_notification": true })
    } else {
        json!({})
    };
    let calls = match (&n.file, text) {
        (Some(path), caption) => vec![file_call(chat, path, caption.as_deref(), extra)?],
        (None, Some(text)) => {
            let max_parts = Config::long_message_max_parts_from_env()?;
            text_calls(chat, &text, &extra, max_parts)
        }
        (None, None) => unreachable!("checked above"),
    };
    if n.now {
        return send_now(&calls, wait).await;
    }
    let db = open_existing().await?;
    let ids = queue(&db, &calls).await;
    db.close().await;
    println!("queued as {}: telegate serve sends it", list(&ids?));
    Ok(())
}

/// Telegram's limit for a caption, in characters.
const CAPTION_MAX: usize = 1024;

/// A sendDocument of the file at `path`: the outbox holds where it lies,
/// and the sender opens it (beneath its folder, following no symlink out)
/// when it sends it.
fn file_call(
    chat: i64,
    path: &std::path::Path,
    caption: Option<&str>,
    mut extra: serde_json::Value,
) -> anyhow::Result<NewCall> {
    use crate::files::beneath::{self, Opened};
    let max_bytes = Config::download_max_bytes_from_env()?;
    let full =
        std::fs::canonicalize(path).with_context(|| format!("cannot find {}", path.display()))?;
    let (Some(dir), Some(name)) = (full.parent(), full.file_name()) else {
        bail!("--file {} names no file", path.display());
    };
    let size = match beneath::open(dir, std::path::Path::new(name)) {
        Ok(Opened::File(_, size)) => size,
        Ok(Opened::Dir(_)) => bail!("--file {} is a folder: give a file", path.display()),
        Err(e) => bail!("cannot send --file {}: {e}", path.display()),
    };
    if size > max_bytes {
        bail!(
            "--file {} is {}, over the limit of {} (DOWNLOAD_MAX_BYTES; Telegram takes up to 50 MB from a bot)",
            path.display(),
            crate::disk_space::human(size),
            crate::disk_space::human(max_bytes)
        );
    }
    if let Some(caption) = caption {
        if caption.chars().count() > CAPTION_MAX {
            bail!("the caption is longer than Telegram's {CAPTION_MAX} characters: shorten it");
        }
        extra["caption"] = json!(caption);
    }
    Ok(crate::files::send_call(
        chat,
        dir,
        std::path::Path::new(name),
        max_bytes,
        extra,
    ))
}

fn message_text(arg: &str) -> anyhow::Result<String> {
    let text = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the message from standard input")?;
        text
    } else {
        arg.to_owned()
    };
    let text = text.trim_end().to_owned();
    if text.trim().is_empty() {
        bail!("the message is empty: give it as an argument, or - and pipe it in");
    }
    Ok(text)
}

/// Writes the calls and one audit row (without the text).
async fn queue(db: &Db, calls: &[NewCall]) -> anyhow::Result<Vec<i64>> {
    let mut tx = db.begin().await?;
    let mut ids = Vec::new();
    for call in calls {
        ids.push(outbox::insert_one(&mut tx, call).await?);
    }
    let entry = Entry {
        chat_id: calls.first().map(|c| c.chat_id),
        command: Some("notify".to_owned()),
        ..Entry::event(
            "cli",
            None,
            Decision::Allowed,
            format!("notification queued as {}", list(&ids)),
        )
    };
    audit::insert(&mut tx, &entry).await?;
    tx.commit().await.context("cannot queue the notification")?;
    Ok(ids)
}

fn list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn send_now(calls: &[NewCall], wait: Duration) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    logging::init(
        "warn",
        config.log_format,
        vec![
            config.bot_token.expose().to_owned(),
            config.webhook_secret.expose().to_owned(),
        ],
    );
    let _lock = SenderLock::acquire(&config.database_path).context(
        "--now sends only when no server runs; without --now the running server sends it",
    )?;
    let db = store::open(&config.database_path).await?;
    let ids = queue(&db, calls).await?;
    let cancel = CancellationToken::new();
    let sender = Sender {
        db: db.clone(),
        client: BotClient::new(&config.api_url, &config.bot_token)?,
        wake: Arc::new(Wake::new()),
        policy: Policy::from_config(&config),
        clock: Clock::system(),
        metrics: crate::metrics::Metrics::default(),
        faults: crate::store::fault::Faults::new(crate::metrics::Metrics::default()),
    };
    let sending = tokio::spawn(sender.run(cancel.clone()));
    let outcome = tokio::time::timeout(wait, until_all_settled(&db, &ids)).await;
    cancel.cancel();
    let _ = sending.await;
    db.close().await;
    match outcome {
        Ok(Ok(None)) => {
            println!("sent ({})", list(&ids));
            Ok(())
        }
        Ok(Ok(Some((id, error)))) => bail!(
            "Telegram refused it: {} (kept as dead letter {id})",
            error.unwrap_or_default()
        ),
        Ok(Err(e)) => Err(e),
        Err(_) => bail!(
            "not sent within --wait {}; it stays queued as {}, and telegate serve (or another notify --now) sends it",
            crate::timefmt::span(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
            list(&ids)
        ),
    }
}

/// Waits until every call is sent (`None`) or one is dead (its id and error).
async fn until_all_settled(db: &Db, ids: &[i64]) -> anyhow::Result<Option<(i64, Option<String>)>> {
    for &id in ids {
        loop {
            match outbox::status(db, id).await? {
                Some((status, error)) if status == "dead" => return Ok(Some((id, error))),
                Some((status, _)) if status == "pending" => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => break,
            }
        }
    }
    Ok(None)
}
