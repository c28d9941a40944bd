//! The name an uploaded file is stored under. The sender's client chooses
//! the original name, so it is hostile input: it may hold path separators
//! (`../../etc/passwd`), start with a dot (`.bashrc`), hide its real
//! extension behind a right-to-left override, carry control characters, or
//! be longer than a file system allows.

/// The most bytes a stored name has, its collision suffix included.
pub const MAX_BYTES: usize = 128;

/// The longest extension kept apart when a name is shortened.
const MAX_EXTENSION: usize = 16;

/// What a name becomes when nothing of it is left.
pub const FALLBACK: &str = "file";

/// `original` made safe to store: only letters, digits, space and
/// `._-+,()@=` (everything else, separators, control and invisible
/// formatting characters included, becomes `_`), no run of dots (so no
/// `..`), no leading dot, dash, underscore or space, no trailing dot or
/// space, at most [`MAX_BYTES`] bytes with the extension kept. Never empty:
/// [`FALLBACK`] when nothing is left.
pub fn sanitise(original: &str) -> String {
    let mut out = String::with_capacity(original.len().min(MAX_BYTES * 4));
    for c in original.chars() {
        let c = if allowed(c) { c } else { '_' };
        if c == '.' && out.ends_with('.') {
            continue;
        }
        out.push(c);
    }
    let trimmed = out
        .trim_start_matches(['.', '-', '_', ' '])
        .trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        return FALLBACK.to_owned();
    }
    let (stem, extension) = split_extension(trimmed);
    fit(stem, "", extension)
}

/// `stem` + `suffix` + `.extension` (when there is one), the stem cut so
/// that the whole is at most [`MAX_BYTES`] bytes. For the collision
/// suffixes `-1`, `-2`... of a name [`sanitise`] made.
pub fn fit(stem: &str, suffix: &str, extension: Option<&str>) -> String {
    let tail = extension.map_or(0, |e| e.len() + 1) + suffix.len();
    let room = MAX_BYTES.saturating_sub(tail);
    let mut cut = stem.len().min(room);
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    // A cut may leave a trailing space or dot before the suffix.
    let stem = stem[..cut].trim_end_matches(['.', ' ']);
    let stem = if stem.is_empty() { FALLBACK } else { stem };
    match extension {
        Some(extension) => format!("{stem}{suffix}.{extension}"),
        None => format!("{stem}{suffix}"),
    }
}

/// The stem and the extension of a sanitised name: the extension is what
/// follows the last dot when it is 1 to 16 ASCII letters and digits.
pub fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('.') {
        Some((stem, extension))
            if !stem.is_empty()
                && (1..=MAX_EXTENSION).contains(&extension.len())
                && extension.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            (stem, Some(extension))
        }
        _ => (name, None),
    }
}

fn allowed(c: char) -> bool {
    // is_alphanumeric excludes control characters and the invisible
    // formatting ones (bidi overrides, zero-width joiners).
    c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '+' | ',' | '(' | ')' | '@' | '=')
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
