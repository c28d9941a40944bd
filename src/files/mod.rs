//! Files from the phone to the server (UPLOAD_DIR).
//!
//! - [`name`]: the name a file is stored under, made safe from whatever
//!   name the sender's client gave it;
//! - [`dir`]: the one place files under UPLOAD_DIR are opened: per-user
//!   directories opened without following symlinks, a temporary file
//!   created exclusively, fsynced and renamed without replacing anything;
//! - [`upload`]: an upload from the chat: what was sent, its size check;
//! - [`service`]: the download in the background (getFile, the file
//!   streamed to disk with retries), the reply and the audit row.
//!
//! The chat side (which messages carry a file, groups, forwards) is in
//! `bot::upload`.

pub mod dir;
pub mod name;
pub mod service;
pub mod upload;

pub use service::{Settings, Uploads};
pub use upload::{FollowUp, Upload};
