//! The command relay: running the operator's own commands from the chat.
//!
//! So far this holds the process runner, the one place telegate starts child
//! processes: [`runner`] runs a program with an exact argv and environment in
//! a process group of its own, captures its output ([`capture`] into
//! [`output`]), says how it ended ([`exit`]) and ends the whole group at its
//! timeout or on cancel; [`group`] finds and ends process groups (also those
//! a previous run of telegate left behind). Nothing calls it yet: the
//! commands file, jobs, buttons and live edits come later.

pub mod capture;
pub mod exit;
pub mod group;
pub mod output;
pub mod runner;
mod spawn;
