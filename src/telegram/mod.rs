//! Everything that talks to the Bot API: the client (the token never printed),
//! start-up registration, long polling, and the sender that drains the outbox.

pub mod client;
pub mod compose;
pub mod poll;
pub mod register;
pub mod sender;
pub mod split;
pub mod throttle;

pub use client::{ApiError, BotClient};
