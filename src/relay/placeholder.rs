//! `{name}` placeholders in a command's `args` and `stdin`.
//!
//! A placeholder is `{` NAME `}` where NAME is a parameter name (a letter or
//! `_`, then letters, digits or `_`). Any other brace is literal text, so
//! arguments such as find's `{}` need no escaping.

use std::ops::Range;

/// The longest parameter name.
pub const MAX_NAME: usize = 32;

/// One placeholder found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// The parameter it names.
    pub name: &'a str,
    /// Where `{name}` stands in the text, braces included.
    pub range: Range<usize>,
}

/// Whether `name` can be a parameter's name (and so appear in a placeholder).
pub fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok && name.len() <= MAX_NAME && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Every placeholder in `text`, in order.
pub fn find(text: &str) -> Vec<Placeholder<'_>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let Some(close) = text[open + 1..].find('}').map(|i| open + 1 + i) else {
            break;
        };
        let name = &text[open + 1..close];
        if is_name(name) {
            found.push(Placeholder {
                name,
                range: open..close + 1,
            });
            from = close + 1;
        } else {
            // `{{unit}` still holds the placeholder `{unit}`.
            from = open + 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn placeholders_are_found_inside_longer_text_and_other_braces_are_literal() {
        assert_eq!(names("{unit}"), ["unit"]);
        assert_eq!(names("--unit={unit}.service"), ["unit"]);
        assert_eq!(names("{from}-{to}"), ["from", "to"]);
        assert_eq!(names("{}"), Vec::<&str>::new());
        assert_eq!(names("{ unit}"), Vec::<&str>::new());
        assert_eq!(names("{9lives}"), Vec::<&str>::new());
        assert_eq!(names("{{unit}"), ["unit"]);
        assert_eq!(names("{unit"), Vec::<&str>::new());
        assert_eq!(find("a{b}c")[0].range, 1..4);
    }

    #[test]
    fn parameter_names_are_short_identifiers() {
        assert!(is_name("unit") && is_name("_x") && is_name("Lines2"));
        assert!(!is_name("") && !is_name("2x") && !is_name("a-b") && !is_name("é"));
        assert!(is_name(&"a".repeat(32)) && !is_name(&"a".repeat(33)));
    }
}
