//! Properties of the command parser over generated message texts.

use proptest::prelude::*;

use super::*;

fn config(cases: u32) -> ProptestConfig {
    // A failure prints its shrunk input; it becomes a unit test, not a file.
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A bot username as Telegram allows it.
fn username() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{4,31}"
}

/// `name` with the case of each ASCII letter flipped where `flips` says so.
fn recased(name: &str, flips: &[bool]) -> String {
    let flip = |c: char| match c.is_ascii_uppercase() {
        true => c.to_ascii_lowercase(),
        false => c.to_ascii_uppercase(),
    };
    let flips = flips.iter().chain(std::iter::repeat(&false));
    name.chars()
        .zip(flips)
        .map(|(c, &f)| if f { flip(c) } else { c })
        .collect()
}

/// Whitespace of several kinds, as clients send between a command and its arguments.
fn blank() -> impl Strategy<Value = char> {
    prop::sample::select(vec![' ', '\n', '\t', '\r', '\u{a0}', '\u{3000}'])
}

/// What may follow the name: nothing, or a blank and any text, blanks around it too.
fn rest() -> impl Strategy<Value = Option<(char, String)>> {
    let blanks = || prop::collection::vec(blank(), 0..3).prop_map(String::from_iter);
    let args = (blanks(), any::<String>(), blanks()).prop_map(|(a, b, c)| a + &b + &c);
    prop::option::of((blank(), args))
}

/// A command name of the right length with a char other than a letter, digit or `_`.
fn name_with_another_char() -> impl Strategy<Value = String> {
    let punctuation = prop::sample::select(
        "-./:!?#$%^&*()+=,;'\"<>[]{}|\\~`"
            .chars()
            .collect::<Vec<_>>(),
    );
    let anything = any::<char>().prop_filter("not allowed in a name", |c| {
        !(c.is_ascii_alphanumeric() || *c == '_' || *c == '@' || c.is_whitespace())
    });
    let other = prop_oneof![punctuation, anything];
    ("[A-Za-z0-9_]{0,15}", other, "[A-Za-z0-9_]{0,15}").prop_map(|(a, c, b)| format!("{a}{c}{b}"))
}

fn text(name: &str, target: Option<&str>, rest: &Option<(char, String)>) -> String {
    let target = target.map_or(String::new(), |t| format!("@{t}"));
    let rest = rest
        .as_ref()
        .map_or(String::new(), |(b, args)| format!("{b}{args}"));
    format!("/{name}{target}{rest}")
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_text_is_answered_without_a_panic_and_a_command_is_well_formed(
        text in prop_oneof![any::<String>(), any::<String>().prop_map(|t| format!("/{t}"))],
        bot in username(),
    ) {
        if let Parsed::Command { name, args } = parse(&text, &bot) {
            prop_assert!(text.starts_with('/'));
            prop_assert!((1..=32).contains(&name.len()));
            prop_assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            prop_assert_eq!(args, args.trim());
            prop_assert!(text.ends_with(args), "{:?} is not the end of {:?}", args, text);
        }
    }

    #[test]
    fn text_not_starting_with_a_slash_is_text(text in "[^/].*|", bot in username()) {
        prop_assert_eq!(parse(&text, &bot), Parsed::Text);
    }

    #[test]
    fn a_valid_command_round_trips_with_its_name_lowercased(
        name in "[A-Za-z0-9_]{1,32}",
        bot in username(),
        (addressed, flips) in (any::<bool>(), prop::collection::vec(any::<bool>(), 32)),
        rest in rest(),
    ) {
        let target = addressed.then(|| recased(&bot, &flips));
        let text = text(&name, target.as_deref(), &rest);
        let args = rest.as_ref().map_or("", |(_, args)| args.trim());
        let want = Parsed::Command { name: name.to_ascii_lowercase(), args };
        prop_assert_eq!(parse(&text, &bot), want);
    }

    #[test]
    fn a_name_too_long_empty_or_with_another_char_is_text(
        name in prop_oneof![
            "[A-Za-z0-9_]{33}",
            "[A-Za-z0-9_]{34,64}",
            name_with_another_char(),
            Just(String::new()),
        ],
        bot in username(),
        addressed in any::<bool>(),
        rest in rest(),
    ) {
        let text = text(&name, addressed.then_some(bot.as_str()), &rest);
        prop_assert_eq!(parse(&text, &bot), Parsed::Text);
    }

    #[test]
    fn a_command_addressed_to_another_bot_is_for_another_bot(
        name in "[A-Za-z0-9_]{1,32}",
        (bot, other) in (username(), "[^@]{0,32}"),
        rest in rest(),
    ) {
        let other: String = other.chars().filter(|c| !c.is_whitespace()).collect();
        prop_assume!(!other.eq_ignore_ascii_case(&bot));
        let text = text(&name, Some(&other), &rest);
        prop_assert_eq!(parse(&text, &bot), Parsed::ForAnotherBot);
    }
}
