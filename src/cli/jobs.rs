//! `telegate jobs [--running] [--limit N]`: the relay's jobs, newest first.

use anyhow::Context;
use clap::Args;

use super::open_existing;
use crate::{
    store::jobs::{self, Job, State},
    timefmt::utc,
};

#[derive(Debug, Args)]
pub struct Listing {
    /// Only the jobs queued or running now.
    #[arg(long)]
    running: bool,
    /// How many jobs to list at most (the newest).
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(i64).range(1..=100_000))]
    limit: i64,
}

pub async fn list(listing: Listing) -> anyhow::Result<()> {
    let db = open_existing().await?;
    let listed = jobs::recent(&db, None, listing.running, listing.limit).await;
    db.close().await;
    let listed = listed.context("cannot read the jobs table")?;
    if listed.is_empty() {
        eprintln!(
            "{}",
            if listing.running {
                "no job is queued or running"
            } else {
                "no jobs yet (relay commands are declared in COMMANDS_FILE)"
            }
        );
    }
    for job in &listed {
        println!("{}", line(job));
    }
    Ok(())
}

/// One job, its fields separated by tabs.
fn line(job: &Job) -> String {
    let when = |ms: Option<i64>| ms.map_or_else(|| "-".to_owned(), |ms| format!("{} UTC", utc(ms)));
    let output = job
        .output_bytes
        .map_or_else(|| "-".to_owned(), |n| format!("{n} bytes"));
    format!(
        "{}\t{}\t{}\tuser {}\tchat {}\t{}\toutput {output}\tstarted {}\tended {}",
        job.id,
        State::label(&job.state),
        printable(&job.shown),
        job.user_id,
        job.chat_id,
        printable(job.exit.as_deref().unwrap_or("-")),
        when(job.started_at),
        when(job.ended_at),
    )
}

/// `text` with its control characters escaped: a command line comes from a
/// chat message, and must neither break the listing's one line per job, nor
/// send escape sequences to the operator's terminal, nor reorder what it
/// shows with bidirectional overrides.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_control() || is_bidi_control(c) => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_a_command_line_are_escaped() {
        assert_eq!(
            printable("/say hi\n\u{1b}[31mred\tä\u{202e}"),
            "/say hi\\n\\u{1b}[31mred\\tä\\u{202e}"
        );
    }
}
