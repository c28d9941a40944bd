//! `telegate audit [--since DURATION] [--user ID] [--json]` and `telegate audit verify`.

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;

use super::open_existing;
use crate::{
    config::parse_duration,
    store::{self, audit, audit_chain},
    timefmt::utc,
};

#[derive(Debug, Args)]
pub struct Filter {
    /// Only rows from this long ago on: 90m, 24h, 7d.
    #[arg(long, value_name = "DURATION")]
    since: Option<String>,
    /// Only rows about this user id.
    #[arg(long, value_name = "ID")]
    user: Option<i64>,
    /// One JSON object per line, with the row's hashes.
    #[arg(long)]
    json: bool,
}

pub async fn list(filter: Filter) -> anyhow::Result<()> {
    let since = match &filter.since {
        None => i64::MIN,
        Some(text) => {
            let Some(ago) = parse_duration(text) else {
                bail!("--since {text:?} is not a duration such as 90m, 24h or 7d");
            };
            store::now_ms() - i64::try_from(ago.as_millis()).unwrap_or(i64::MAX)
        }
    };
    let db = open_existing().await?;
    let rows = audit::query(&db, since, filter.user)
        .await
        .context("cannot read the audit trail")?;
    db.close().await;
    for row in &rows {
        if filter.json {
            println!("{}", as_json(row));
        } else {
            println!("{}", as_line(row));
        }
    }
    if rows.is_empty() && !filter.json {
        eprintln!("no audit rows match");
    }
    Ok(())
}

fn as_line(row: &audit::Row) -> String {
    let mut line = format!("#{} {} {}", row.id, utc(row.at), row.kind);
    if let Some(user) = row.user_id {
        line += &format!(" user {user}");
    }
    if let Some(chat) = row.chat_id.filter(|c| Some(*c) != row.user_id) {
        line += &format!(" chat {chat}");
    }
    if let Some(command) = &row.command {
        line += &format!(" /{command}");
    }
    format!("{line}: {} ({})", row.decision, row.outcome)
}

fn as_json(row: &audit::Row) -> serde_json::Value {
    json!({
        "id": row.id,
        "at": utc(row.at),
        "at_ms": row.at,
        "update_id": row.update_id,
        "kind": row.kind,
        "chat_id": row.chat_id,
        "user_id": row.user_id,
        "command": row.command,
        "decision": row.decision,
        "outcome": row.outcome,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    })
}

/// Checks the chain and, given a head noted earlier, that the trail still
/// reaches it; prints the head now.
pub async fn verify(expected: Option<&str>) -> anyhow::Result<()> {
    let expected = expected
        .map(str::parse::<audit_chain::Head>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--head {e}"))?;
    let db = open_existing().await?;
    let checked = async {
        let verdict = audit_chain::verify(&db).await?;
        let head = audit_chain::head(&db).await?;
        let reached = match &expected {
            Some(expected) => audit_chain::check_head(&db, expected).await?,
            None => None,
        };
        Ok::<_, sqlx::Error>((verdict, head, reached))
    };
    let checked = checked.await;
    db.close().await;
    let (verdict, head, reached) = checked.context("cannot read the audit trail")?;
    if let Some(problem) = verdict.problem {
        bail!("the audit trail has been tampered with: {problem}");
    }
    let start = verdict.starts_after.map_or_else(String::new, |id| {
        format!(", starting after pruned row {id}")
    });
    println!("audit trail intact: {} row(s) checked{start}", verdict.rows);
    match &head {
        Some(head) => println!("head: {head}"),
        None => println!("head: none (the trail is empty)"),
    }
    if let Some(expected) = expected {
        if let Some(problem) = reached {
            bail!("the audit trail no longer reaches the head {expected}: {problem}");
        }
        println!("it reaches the head {expected}");
    }
    Ok(())
}
