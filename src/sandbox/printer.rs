//! Printing the conversation as it happens: each call the bot makes to the
//! stand-in, shown on the screen as soon as it is made.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use super::{lock, render::Screen};
use crate::standin::{Call, StandIn};

/// Shows each call as it arrives (edits too, while the person types
/// nothing), woken by the stand-in rather than polling it. `emit` prints.
pub(super) async fn print_calls(
    standin: Arc<StandIn>,
    screen: Arc<Mutex<Screen>>,
    emit: impl Fn(Vec<String>) + Send + 'static,
) {
    loop {
        let seen = lock(&screen).seen;
        let calls = standin.calls_after(seen, Duration::from_secs(3600)).await;
        show_new(&screen, seen, &calls, &emit);
    }
}

/// Shows the calls the printer has not shown yet, at once.
pub(super) async fn catch_up(
    standin: &StandIn,
    screen: &Mutex<Screen>,
    emit: &impl Fn(Vec<String>),
) {
    let seen = lock(screen).seen;
    let calls = standin.calls_after(seen, Duration::ZERO).await;
    show_new(screen, seen, &calls, emit);
}

/// Shows `calls` (the stand-in's calls from the `from`th on), except those
/// shown meanwhile. Emitted under the screen's lock, so that the printer and
/// a catch-up never print out of order or twice.
fn show_new(screen: &Mutex<Screen>, from: usize, calls: &[Call], emit: &impl Fn(Vec<String>)) {
    let mut screen = lock(screen);
    let already = screen.seen.saturating_sub(from);
    let lines = calls
        .iter()
        .skip(already)
        .flat_map(|call| screen.show(call))
        .collect();
    emit(lines);
}

pub(super) fn print(lines: Vec<String>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}
