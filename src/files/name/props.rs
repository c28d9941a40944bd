use proptest::prelude::*;

use super::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        ..ProptestConfig::default()
    }
}

/// Bidi overrides and marks, zero-width characters.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}' | '\u{feff}')
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_name_is_one_safe_component(original in "\\PC{0,400}|[./\\\\a-z\u{202e}\n]{0,40}") {
        let name = sanitise(&original);
        prop_assert!(!name.is_empty());
        prop_assert!(name.len() <= MAX_BYTES, "{} bytes", name.len());
        prop_assert!(!name.contains(['/', '\\', '\0']));
        prop_assert!(!name.contains(".."));
        prop_assert!(!name.starts_with(['.', '-', ' ']));
        prop_assert!(name.chars().all(|c| !c.is_control()));
        prop_assert!(!name.chars().any(invisible), "{:?}", name);
        prop_assert_ne!(name.as_str(), ".");
    }

    #[test]
    fn a_short_extension_is_kept(stem in "[a-z]{1,300}", extension in "[a-z0-9]{1,8}") {
        let name = sanitise(&format!("{stem}.{extension}"));
        let wanted = format!(".{extension}");
        prop_assert!(name.ends_with(&wanted), "{name}");
    }

    #[test]
    fn sanitising_twice_changes_nothing(original in "\\PC{0,200}") {
        let once = sanitise(&original);
        prop_assert_eq!(sanitise(&once), once);
    }

    #[test]
    fn collision_names_stay_within_the_limit(original in "\\PC{0,300}", n in 1u32..100_000) {
        let name = sanitise(&original);
        let (stem, extension) = split_extension(&name);
        let candidate = fit(stem, &format!("-{n}"), extension);
        prop_assert!(candidate.len() <= MAX_BYTES);
        prop_assert!(!candidate.starts_with('.'));
    }
}
