//! Files through the chat: `/get` from DOWNLOAD_DIRS and `notify --file`.

mod download;
mod download_notify;
mod download_outputs;
mod download_race;
