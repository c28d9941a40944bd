//! The command relay: the operator's own commands, run from the chat.
//!
//! - [`spec`]: the commands file (COMMANDS_FILE), read and checked with every
//!   problem named by its line (`telegate commands check`);
//! - [`args`]: a command's argv, built from the text after `/name`, every
//!   value checked and never passed through a shell;
//! - [`placeholder`]: the `{name}` placeholders both of them read;
//! - [`runner`]: the one place a child is started (spawn.rs): exact argv and
//!   environment, its own process group tied to telegate, output captured
//!   ([`capture`] into [`output`], [`exit`]), and the whole group ended at
//!   timeout or cancel; [`group`] also ends groups a killed telegate left
//!   behind;
//! - [`service`]: the relay in serve: the commands in force (re-read on
//!   SIGHUP), the limits, each job from start to end, recovery at start;
//! - [`buttons`]: [Run] [Cancel] and [Cancel] as opaque one-shot ids;
//! - [`status`]: what a job's status message says.
//!
//! The chat side (who may run what, confirmations, callback queries) is in
//! `bot::relay` and `bot::callback`; the job table in `store::jobs`.

pub mod args;
pub mod buttons;
pub mod capture;
pub mod exit;
pub mod group;
pub mod output;
pub mod placeholder;
pub mod runner;
pub mod service;
mod spawn;
pub mod spec;
pub mod status;
