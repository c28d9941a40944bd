//! telegate: a secure, self-hosted Telegram bot server.
//!
//! An update arrives on the webhook ([`http`]), is proven to come from
//! Telegram, stored durably ([`ingest`], [`store`]) and acknowledged; the
//! [`worker`] hands it to the [`bot`] dispatcher, whose replies go out through
//! the outbox and the [`telegram`] sender.

pub mod app;
pub mod audit_head;
pub mod auth;
pub mod bot;
pub mod cli;
pub mod clock;
pub mod config;
pub mod disk_space;
pub mod files;
pub mod housekeeping;
pub mod http;
pub mod ingest;
pub mod logging;
pub mod metrics;
pub mod relay;
pub mod sandbox;
pub mod scrub;
pub mod standin;
pub mod store;
pub mod telegram;
pub mod timefmt;
pub mod tls;
pub mod worker;

/// The database migrations, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
