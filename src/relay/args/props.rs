//! Properties of argv building over generated message texts: whatever is
//! typed, the argv has the declared shape and no value escapes its element.

use proptest::prelude::*;

use super::*;
use crate::relay::spec::{self, Command};

fn config(cases: u32) -> ProptestConfig {
    // A failure prints its shrunk input; it becomes a unit test, not a file.
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The declared args of the command under test, as the file writes them.
const ARGS: [&str; 10] = [
    "{a}",
    "-u",
    "{b}",
    "--",
    "{c}",
    "--unit={d}",
    "{e}.log",
    "{f}",
    "--x=1",
    "{t}",
];

fn command() -> Command {
    let args: Vec<String> = ARGS.iter().map(|a| format!("{a:?}")).collect();
    let text = format!(
        "[[command]]\nname = \"run\"\ndescription = \"d\"\nprogram = \"/bin/sh\"\n\
         args = [{}]\n\
         params = [{{ name = \"a\" }}, {{ name = \"b\", choices = [\"x\", \"-y\"] }},\n\
         {{ name = \"c\", type = \"int\", min = -5, max = 5 }}, {{ name = \"d\", pattern = \"[a-z-]+\" }},\n\
         {{ name = \"e\" }}, {{ name = \"f\", allow_dash = true }},\n\
         {{ name = \"t\", type = \"text\", default = \"hi\" }}]\n",
        args.join(", ")
    );
    spec::parse(&text).unwrap().commands.remove(0)
}

/// Words people and attackers type.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "x",
            "-y",
            "nginx",
            "0",
            "-3",
            "5",
            "99",
            "+2",
            "abc",
            "a-b",
            ";",
            "&&",
            "|",
            "$(id)",
            "`id`",
            "..",
            "../../etc/passwd",
            "-rf",
            "--help",
            "--",
            "-",
            "a\u{0}b",
            "\u{0}",
            "\u{430}",
            "ｘ",
            "日本",
            "\u{202e}",
            "'",
            "\"",
            "*",
            "~",
            "{a}",
            "{t}",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
        (1usize..3).prop_map(|n| "v".repeat(n * 5_000)),
    ]
}

/// Whitespace of several kinds, as clients send between words.
fn blank() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![" ", "  ", "\n", "\t", "\u{a0}", "\u{3000}"])
}

/// Values that fit the parameter at position `i` (a to f, then the text)
/// or nearly do, with and without a leading '-', so that many messages get
/// as far as building the argv.
fn near_value(i: usize) -> impl Strategy<Value = String> {
    let values: &[&str] = match i {
        0 => &["x", "-x", "a-b", "../up"],
        1 => &["x", "-y", "y"],
        2 => &["0", "-3", "5", "+2", "6"],
        3 => &["abc", "-rf", "a-b", "A"],
        4 => &["v.1", "-x", "x"],
        5 => &["-f", "y"],
        _ => &["hello", "-rf", "a b", "$(id)"],
    };
    prop::sample::select(values).prop_map(str::to_owned)
}

/// A message: word i is mostly near what parameter i takes, else anything.
fn message() -> impl Strategy<Value = String> {
    (0usize..10).prop_flat_map(|n| {
        (0..n)
            .map(|i| (blank(), prop_oneof![3 => near_value(i), 1 => word()]))
            .collect::<Vec<_>>()
            .prop_map(|parts| {
                parts
                    .into_iter()
                    .map(|(blank, word)| format!("{blank}{word}"))
                    .collect::<String>()
            })
    })
}

/// Whether the declared args let a value starting with '-' stand at `i`,
/// worked out from the file's text, not from the parsed template.
fn dash_allowed_at(i: usize) -> bool {
    let element = ARGS[i];
    let previous = i.checked_sub(1).map(|p| ARGS[p]);
    !element.starts_with('{')
        || element == "{f}"
        || previous == Some("--")
        || previous.is_some_and(|p| {
            p.starts_with('-') && p.len() > 1 && !p.contains('=') && !p.contains('{')
        })
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn any_message_gives_a_usage_error_or_an_argv_of_the_declared_shape(text in message()) {
        let command = command();
        let argv = match build(&command, &text) {
            Ok(argv) => argv,
            Err(e) => {
                // Every refusal names the usage line.
                prop_assert!(e.to_string().ends_with("Usage: /run A B C D E F [T]"), "{}", e);
                return Ok(());
            }
        };
        prop_assert_eq!(argv.args.len(), ARGS.len());
        for (i, (element, declared)) in argv.args.iter().zip(ARGS).enumerate() {
            let found = crate::relay::placeholder::find(declared);
            let Some(placeholder) = found.first() else {
                prop_assert_eq!(element, declared);
                continue;
            };
            let prefix = &declared[..placeholder.range.start];
            let suffix = &declared[placeholder.range.end..];
            prop_assert!(element.starts_with(prefix) && element.ends_with(suffix));
            prop_assert!(element.len() >= prefix.len() + suffix.len());
            let value = &element[prefix.len()..element.len() - suffix.len()];
            prop_assert!(!value.contains('\0'), "NUL in {:?}", value);
            prop_assert!(!value.is_empty());
            if value.starts_with('-') {
                prop_assert!(dash_allowed_at(i), "{:?} at {}", value, i);
            }
            match placeholder.name {
                "a" | "e" | "f" => prop_assert!(
                    value.len() <= 256
                        && value.chars().all(|c| c.is_ascii_alphanumeric() || "_.,:/@=+-".contains(c))
                ),
                "b" => prop_assert!(value == "x" || value == "-y"),
                "c" => prop_assert!(value.parse::<i64>().is_ok_and(|n| (-5..=5).contains(&n))),
                "d" => prop_assert!(value.chars().all(|c| c.is_ascii_lowercase() || c == '-')),
                // t: the rest of the message; checked above like every value.
                _ => {}
            }
        }
    }

    #[test]
    fn a_text_parameter_passes_any_text_as_one_element_or_refuses_it(text in message()) {
        let ask = spec::parse(
            "[[command]]\nname = \"ask\"\ndescription = \"d\"\nprogram = \"/bin/sh\"\n\
             args = [\"say\", \"{q}\"]\nparams = [{ name = \"q\", type = \"text\" }]\n",
        )
        .unwrap()
        .commands
        .remove(0);
        let trimmed = text.trim();
        match build(&ask, &text) {
            Ok(argv) => {
                prop_assert_eq!(argv.args, vec!["say".to_owned(), trimmed.to_owned()]);
                prop_assert!(!trimmed.contains('\0') && !trimmed.starts_with('-'));
            }
            Err(_) => prop_assert!(
                trimmed.is_empty() || trimmed.contains('\0') || trimmed.starts_with('-')
            ),
        }
    }
}
