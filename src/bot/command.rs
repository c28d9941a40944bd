//! Parsing `/cmd`, `/cmd args` and `/cmd@botname args`.

/// What the text of a message says, as far as commands go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A command for this bot: its lower-cased name and the rest of the text.
    Command { name: String, args: &'a str },
    /// A command addressed to another bot (`/cmd@otherbot`): ignored.
    ForAnotherBot,
    /// Not a command.
    Text,
}

/// Reads a command from the start of `text`. `bot_username` is ours, without '@'.
pub fn parse<'a>(text: &'a str, bot_username: &str) -> Parsed<'a> {
    let Some(rest) = text.strip_prefix('/') else {
        return Parsed::Text;
    };
    let (head, args) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(h, a)| (h, a.trim()));
    let (name, target) = head
        .split_once('@')
        .map_or((head, None), |(n, t)| (n, Some(t)));
    let valid = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Parsed::Text;
    }
    if target.is_some_and(|t| !t.eq_ignore_ascii_case(bot_username)) {
        return Parsed::ForAnotherBot;
    }
    Parsed::Command {
        name: name.to_ascii_lowercase(),
        args,
    }
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn command<'a>(name: &str, args: &'a str) -> Parsed<'a> {
        Parsed::Command {
            name: name.into(),
            args,
        }
    }

    #[test]
    fn commands_with_and_without_arguments_and_bot_name() {
        assert_eq!(parse("/ping", "my_bot"), command("ping", ""));
        assert_eq!(
            parse("/start  PingPrivate ", "my_bot"),
            command("start", "PingPrivate")
        );
        assert_eq!(
            parse("/Start@My_Bot a b", "my_bot"),
            command("start", "a b")
        );
        assert_eq!(
            parse("/ping@my_bot\nmore", "my_bot"),
            command("ping", "more")
        );
    }

    #[test]
    fn commands_for_another_bot_are_told_apart() {
        assert_eq!(
            parse("/start@swantabot PingGroup", "my_bot"),
            Parsed::ForAnotherBot
        );
    }

    #[test]
    fn other_text_is_not_a_command() {
        assert_eq!(parse("hello /ping", "b"), Parsed::Text);
        assert_eq!(parse("/", "b"), Parsed::Text);
        assert_eq!(parse("/ ping", "b"), Parsed::Text);
        assert_eq!(parse("/usr/bin", "b"), Parsed::Text);
    }
}
