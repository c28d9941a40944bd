use std::fmt::Write;

use crate::{
    bot::{Dispatcher, context::Context},
    store::jobs::{self, State},
    timefmt::utc,
};

/// How many jobs /jobs lists.
const SHOWN: i64 = 15;

/// The user's recent relay jobs; the owner sees everyone's.
pub async fn run(ctx: &Context, bot: &Dispatcher) -> anyhow::Result<String> {
    let Some(user) = ctx.user_id else {
        return Ok("No jobs.".into());
    };
    let owner = bot.is_owner(user).await?;
    let of = (!owner).then_some(user);
    let listed = jobs::recent(&bot.reads, of, false, SHOWN).await?;
    if listed.is_empty() {
        return Ok(match bot.relay.catalog().commands.is_empty() {
            true => "No jobs: no relay commands are declared (COMMANDS_FILE).".into(),
            false => "No jobs yet. Send /help to see the commands you may run.".into(),
        });
    }
    let mut text = match owner {
        true => "Recent jobs (everyone's):".to_owned(),
        false => "Your recent jobs:".to_owned(),
    };
    for job in listed {
        let who = if owner && job.user_id != user {
            format!(" (user {})", job.user_id)
        } else {
            String::new()
        };
        let exit = job.exit.map(|e| format!(", {e}")).unwrap_or_default();
        let _ = write!(
            text,
            "\n#{} {}{who}: {}{exit}, {} UTC",
            job.id,
            job.shown,
            State::label(&job.state),
            utc(job.created_at)
        );
    }
    Ok(text)
}
