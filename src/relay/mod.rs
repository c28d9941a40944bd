//! The command relay (issue 11): the operator's own commands, run from the
//! chat. Built in parts; so far:
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
//!   behind.
//!
//! Nothing here is wired into serve, the bot or the dispatcher yet: serve
//! does not run relay commands.

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
