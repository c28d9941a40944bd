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
        emit(shown(&screen, &calls));
    }
}

/// The lines that show `calls`.
pub(super) fn shown(screen: &Mutex<Screen>, calls: &[Call]) -> Vec<String> {
    let mut screen = lock(screen);
    calls.iter().flat_map(|call| screen.show(call)).collect()
}

pub(super) fn print(lines: Vec<String>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}
