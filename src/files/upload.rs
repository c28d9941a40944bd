//! An upload as the chat sends it: which file a message carries, the name
//! it will be stored under, and how sizes are shown.

use frankenstein::types::Message;

use super::name;

/// A file sent in a message, to fetch and store.
#[derive(Debug, Clone)]
pub struct Upload {
    pub user: i64,
    pub chat: i64,
    /// The message that carried it (the reply answers it).
    pub message_id: i32,
    pub file_id: String,
    /// The name it is stored under (sanitised; a suffix is added on a
    /// collision).
    pub name: String,
    /// The size Telegram gave, when it gave one.
    pub size: Option<u64>,
    /// The relay command its caption named, to offer to run with the file
    /// once it is stored.
    pub then: Option<FollowUp>,
}

/// A relay command with an upload parameter, named in a file's caption.
#[derive(Clone)]
pub struct FollowUp {
    pub command: std::sync::Arc<crate::relay::spec::Command>,
    /// What was typed after `/name` (may be secret: never printed).
    pub args: String,
}

impl std::fmt::Debug for FollowUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FollowUp")
            .field("command", &self.command.name)
            .finish_non_exhaustive()
    }
}

/// The file `message` carries (a document, photo, audio, video or voice
/// message), if any, as `user` sent it in `chat`. `stamp` names files that
/// come without a name (`photo-20261202-181530.jpg`).
pub fn from_message(message: &Message, user: i64, chat: i64, stamp: &str) -> Option<Upload> {
    let unnamed = |kind: &str, extension: &str| format!("{kind}-{stamp}.{extension}");
    let (file_id, original, size) = if let Some(d) = &message.document {
        let original = d
            .file_name
            .clone()
            .unwrap_or_else(|| unnamed("document", "bin"));
        (d.file_id.clone(), original, d.file_size)
    } else if let Some(largest) = message.photo.as_ref().and_then(|sizes| sizes.last()) {
        (
            largest.file_id.clone(),
            unnamed("photo", "jpg"),
            largest.file_size,
        )
    } else if let Some(a) = &message.audio {
        let original = a
            .file_name
            .clone()
            .unwrap_or_else(|| unnamed("audio", "mp3"));
        (a.file_id.clone(), original, a.file_size)
    } else if let Some(v) = &message.video {
        let original = v
            .file_name
            .clone()
            .unwrap_or_else(|| unnamed("video", "mp4"));
        (v.file_id.clone(), original, v.file_size)
    } else if let Some(v) = &message.voice {
        (v.file_id.clone(), unnamed("voice", "ogg"), v.file_size)
    } else {
        return None;
    };
    Some(Upload {
        user,
        chat,
        message_id: message.message_id,
        file_id,
        name: name::sanitise(&original),
        size,
        then: None,
    })
}

impl Upload {
    /// The row that waits for it in the uploads table.
    pub fn pending(&self) -> crate::store::uploads::Pending {
        crate::store::uploads::Pending {
            id: 0,
            user_id: self.user,
            chat_id: self.chat,
            message_id: i64::from(self.message_id),
            file_id: self.file_id.clone(),
            name: self.name.clone(),
            size: self.size.and_then(|s| i64::try_from(s).ok()),
        }
    }

    /// An upload a stopped telegate left pending (the command its caption
    /// named, if any, is not offered again).
    pub fn resumed(row: &crate::store::uploads::Pending) -> Self {
        Self {
            user: row.user_id,
            chat: row.chat_id,
            message_id: i32::try_from(row.message_id).unwrap_or_default(),
            file_id: row.file_id.clone(),
            name: row.name.clone(),
            size: row.size.and_then(|s| u64::try_from(s).ok()),
            then: None,
        }
    }
}

/// A size as a person reads it: `812 bytes`, `1.5 MB` (units of 1024, as
/// Telegram's apps show them).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    #[allow(clippy::cast_precision_loss)] // Shown to one decimal.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A size with its exact count of bytes: `812 bytes`, `1.5 MB (1572864 bytes)`.
pub fn exact_size(bytes: u64) -> String {
    if bytes < 1024 {
        return human_size(bytes);
    }
    format!("{} ({bytes} bytes)", human_size(bytes))
}

/// Why a file of `size` bytes is refused under the limit `max`.
pub fn too_big(name: &str, size: u64, max: u64) -> String {
    format!(
        "{name} is {}: over the upload limit of {} (UPLOAD_MAX_BYTES), so it was not downloaded.",
        exact_size(size),
        exact_size(max)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_shown_in_units_of_1024() {
        assert_eq!(human_size(812), "812 bytes");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(20 * 1024 * 1024), "20.0 MB");
        assert_eq!(human_size(2 * 1024 * 1024 * 1024), "2.0 GB");
    }
}
