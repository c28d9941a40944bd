use crate::bot::{Dispatcher, context::Context};

/// Cancels the user's running relay jobs.
pub fn run(ctx: &Context, bot: &Dispatcher) -> String {
    let Some(user) = ctx.user_id else {
        return "Nothing to cancel.".into();
    };
    let ids = bot.relay.cancel_all_of(user);
    if ids.is_empty() {
        return "You have no command running.".into();
    }
    let list: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
    format!(
        "Cancelling {}: SIGTERM now, SIGKILL 5 s later for what is still running.",
        list.join(", ")
    )
}
