//! Files both ways.
//!
//! From the phone to the server (UPLOAD_DIR):
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
//!
//! From the server to the phone: the folders `/get` may send from
//! (DOWNLOAD_DIRS), the safe way every path under them is opened
//! ([`beneath`]), the buttons of its listings and questions ([`picks`]),
//! and a relay job's output files ([`outputs`]).

pub mod beneath;
pub mod dir;
pub mod name;
pub mod outputs;
pub mod picks;
pub mod service;
pub mod upload;

pub use service::{Settings, Uploads};
pub use upload::{FollowUp, Upload};

use std::{path::PathBuf, time::Duration};

use serde_json::{Value, json};

use crate::{store::outbox::NewCall, telegram::client::DOCUMENT_FILE};

/// The Bot API's limit for a file a bot uploads (DOWNLOAD_MAX_BYTES' default).
pub const DEFAULT_MAX_BYTES: u64 = 50 * 1000 * 1000;

/// How many entries a folder listing shows.
pub const LIST_MAX: usize = 50;

/// How long the buttons of a listing work.
pub const LISTING_TIMEOUT: Duration = Duration::from_secs(600);

/// What `/get` may send.
#[derive(Debug, Default)]
pub struct Downloads {
    /// Absolute folders (DOWNLOAD_DIRS); empty: /get is off.
    pub roots: Vec<PathBuf>,
    /// Files larger than this are refused (DOWNLOAD_MAX_BYTES).
    pub max_bytes: u64,
    /// How long a [Send] [Cancel] question works (CONFIRM_TIMEOUT).
    pub confirm_timeout: Duration,
    /// The live buttons.
    pub picks: picks::Picks,
}

impl Downloads {
    /// `/get` with these roots and limits.
    pub fn new(roots: Vec<PathBuf>, max_bytes: u64, confirm_timeout: Duration) -> Self {
        Self {
            roots,
            max_bytes,
            confirm_timeout,
            picks: picks::Picks::default(),
        }
    }

    /// Whether /get is on.
    pub fn enabled(&self) -> bool {
        !self.roots.is_empty()
    }
}

/// A sendDocument of the file `rel` under `root`: the outbox holds where it
/// lies, and the sender opens it then (beneath `root`, never following a way
/// out) and streams it. A restart before it is sent changes nothing: the
/// file is opened when it is sent, and a file that is gone, has grown over
/// `max_bytes` or now leads outside is not sent (a dead letter saying why).
pub fn send_call(
    chat: i64,
    root: &std::path::Path,
    rel: &std::path::Path,
    max_bytes: u64,
    extra: Value,
) -> NewCall {
    let mut params = json!({
        "chat_id": chat,
        DOCUMENT_FILE: { "root": root, "path": rel, "max_bytes": max_bytes },
    });
    if let (Value::Object(params), Value::Object(extra)) = (&mut params, extra) {
        params.extend(extra);
    }
    NewCall::new(chat, "sendDocument", params)
}
