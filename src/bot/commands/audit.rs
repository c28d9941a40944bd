use crate::{bot::Dispatcher, store::audit, timefmt::utc};

const DEFAULT: i64 = 20;
const MAX: i64 = 100;
/// Room left under Telegram's 4096 characters.
const BUDGET: usize = 3900;

/// The last N audit rows, newest last, one compact line each.
pub async fn run(args: &str, bot: &Dispatcher) -> anyhow::Result<String> {
    let n = match args.split_whitespace().next() {
        None => DEFAULT,
        Some(word) => match word.parse::<i64>() {
            Ok(n) if (1..=MAX).contains(&n) => n,
            _ => {
                return Ok(format!(
                    "Usage: /audit [N], N from 1 to {MAX} (default {DEFAULT})."
                ));
            }
        },
    };
    let rows = audit::last(&bot.reads, n).await?;
    let mut lines: Vec<String> = rows.iter().map(line).collect();
    // Keep the newest lines when they do not all fit in one message.
    let mut size: usize = lines.iter().map(|l| l.len() + 1).sum();
    while size > BUDGET && !lines.is_empty() {
        size -= lines.remove(0).len() + 1;
    }
    if lines.is_empty() {
        return Ok("The audit trail is empty.".to_owned());
    }
    Ok(format!(
        "Last {} decision(s), UTC:\n{}",
        lines.len(),
        lines.join("\n")
    ))
}

fn line(row: &audit::Row) -> String {
    let who = row
        .user_id
        .map_or_else(String::new, |u| format!(" user {u}"));
    let command = row
        .command
        .as_deref()
        .map_or_else(String::new, |c| format!(" /{c}"));
    format!(
        "#{} {} {}{who}{command}: {} ({})",
        row.id,
        &utc(row.at)[5..16],
        row.kind,
        row.decision,
        row.outcome
    )
}
