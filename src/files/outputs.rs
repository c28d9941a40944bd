//! A relay command's `output_files`: after the job ends, the files matching
//! its patterns in its workdir are sent (opened beneath the workdir, like
//! `/get`'s folders: no symlink leads out).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{
    DEFAULT_MAX_BYTES,
    beneath::{self, Opened},
    send_call,
};
use crate::store::outbox::NewCall;

/// At most this many files are sent after one job.
pub const MAX_FILES: usize = 10;

/// The calls that send the files matching `patterns` under `workdir` to
/// `chat`, and notes about what was not sent.
pub fn calls(
    workdir: &Path,
    patterns: &[String],
    as_photo: bool,
    chat: i64,
    caption: &str,
) -> (Vec<NewCall>, Vec<String>) {
    let mut found: Vec<(PathBuf, u64)> = Vec::new();
    let mut notes = Vec::new();
    for pattern in patterns {
        let pattern = Path::new(pattern);
        let dir = pattern.parent().unwrap_or(Path::new(""));
        let last = pattern
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !last.contains(['*', '?']) {
            match beneath::open(workdir, pattern) {
                Ok(Opened::File(_, size)) => found.push((pattern.to_owned(), size)),
                Ok(Opened::Dir(_)) => {
                    notes.push(format!("{} is a folder: not sent.", pattern.display()))
                }
                Err(e) => notes.push(format!("{} not sent: {e}.", pattern.display())),
            }
            continue;
        }
        let Ok(Opened::Dir(fd)) = beneath::open(workdir, dir) else {
            continue;
        };
        let Ok((entries, _)) = beneath::list(&fd, usize::MAX) else {
            continue;
        };
        for entry in entries {
            if let (false, Some(size)) = (entry.is_dir, entry.size)
                && matches(&last, &entry.name)
            {
                found.push((dir.join(&entry.name), size));
            }
        }
    }
    found.sort();
    found.dedup();
    if found.len() > MAX_FILES {
        notes.push(format!(
            "{} output files matched; the first {MAX_FILES} are sent.",
            found.len()
        ));
        found.truncate(MAX_FILES);
    }
    let mut calls = Vec::new();
    for (path, size) in found {
        if size > DEFAULT_MAX_BYTES {
            notes.push(format!(
                "{} is {}, over Telegram's 50 MB: not sent.",
                path.display(),
                crate::disk_space::human(size)
            ));
            continue;
        }
        let mut call = send_call(
            chat,
            workdir,
            &path,
            DEFAULT_MAX_BYTES,
            json!({ "caption": caption }),
        );
        if as_photo && is_image(&path) {
            call.method = "sendPhoto";
        }
        calls.push(call);
    }
    (calls, notes)
}

/// Whether `path` names a picture Telegram shows as a photo.
fn is_image(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "webp" | "gif")
}

/// `*` (any run) and `?` (one character) against a whole name; a leading
/// dot is matched only by a pattern that starts with one.
pub fn matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some('?') => (pi, ni) = (pi + 1, ni + 1),
            Some(c) if *c == n[ni] => (pi, ni) = (pi + 1, ni + 1),
            _ => match star {
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    (pi, ni) = (sp + 1, sn + 1);
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs_match_whole_names_and_skip_hidden_files() {
        assert!(matches("*.png", "chart.png"));
        assert!(!matches("*.png", "chart.png.txt"));
        assert!(matches("report-??.pdf", "report-01.pdf"));
        assert!(!matches("*.png", ".hidden.png"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(matches("report.pdf", "report.pdf"));
    }
}
