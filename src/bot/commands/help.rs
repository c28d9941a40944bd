use std::fmt::Write;

use super::COMMANDS;

/// Every command is open to every allowed user for now; roles come later.
pub fn run() -> String {
    let mut text = String::from("Commands you may use:");
    for c in COMMANDS {
        let _ = write!(text, "\n/{} - {}", c.name, c.description);
    }
    text
}
