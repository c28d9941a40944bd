//! `telegate outbox [--dead]` and `telegate outbox retry ID`.

use anyhow::bail;
use clap::{Args, Subcommand};

use super::open_existing;
use crate::{
    store::{
        self,
        audit::{self, Decision, Entry},
        outbox,
    },
    timefmt::utc,
};

#[derive(Debug, Args)]
pub struct Listing {
    /// The dead letters (calls given up on) instead of the pending calls.
    #[arg(long)]
    dead: bool,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Put a dead letter back in the queue.
    Retry { id: i64 },
}

pub async fn list(listing: Listing) -> anyhow::Result<()> {
    let db = open_existing().await?;
    let calls = outbox::list(&db, listing.dead).await;
    db.close().await;
    let calls = calls?;
    if calls.is_empty() {
        let what = if listing.dead {
            "no dead letters"
        } else {
            "nothing is waiting to be sent"
        };
        eprintln!("{what}");
    }
    for c in calls {
        let error = c.last_error.as_deref().unwrap_or("-");
        if listing.dead {
            println!(
                "{}\tchat {}\t{}\tqueued {} UTC\t{error}",
                c.id,
                c.chat_id,
                c.method,
                utc(c.created_at)
            );
        } else {
            println!(
                "{}\tchat {}\t{}\tattempts {}\tnext {} UTC\t{error}",
                c.id,
                c.chat_id,
                c.method,
                c.attempts,
                utc(c.next_attempt_at)
            );
        }
    }
    Ok(())
}

pub async fn run(action: Action) -> anyhow::Result<()> {
    let Action::Retry { id } = action;
    let db = open_existing().await?;
    let mut tx = db.begin().await?;
    if !outbox::requeue(&mut tx, id, store::now_ms()).await? {
        drop(tx);
        db.close().await;
        bail!("{id} is not a dead letter (telegate outbox --dead lists them)");
    }
    let entry = Entry {
        command: Some("outbox retry".to_owned()),
        ..Entry::event(
            "cli",
            None,
            Decision::Allowed,
            format!("dead letter {id} queued again"),
        )
    };
    audit::insert(&mut tx, &entry).await?;
    tx.commit().await?;
    db.close().await;
    println!("{id} is queued again; a running telegate serve sends it within a second");
    Ok(())
}
