//! Integration tests: real HTTP servers on loopback, a real SQLite file, and
//! the Telegram stand-in as the Bot API.

mod audit;
mod binary;
mod cli;
mod commands_check;
mod deploy;
mod disk_space;
mod dispatch;
mod enrolment;
mod files;
mod flood;
mod full_disk;
mod health;
mod metrics;
mod nginx;
mod notify;
mod outbound;
mod owner_tools;
mod poll;
mod real_updates;
mod relay;
mod relay_ops;
mod relay_runner;
mod restart;
mod restore;
mod retention;
mod sandbox;
mod security;
mod sessions;
mod standin;
mod startup;
mod storage_faults;
mod support;
mod tls;
