//! What a typed line means: a message for the bot, or a press of a numbered
//! button shown on the screen.

use super::render::{Screen, Slot};

/// What to do with a line the person typed.
#[derive(Debug, PartialEq, Eq)]
pub enum Typed<'a> {
    /// Send it to the bot as a message.
    Message(&'a str),
    /// Press this button.
    Press(Slot),
    /// A number that names no button shown: say so, send nothing.
    Hint(String),
}

/// Reads a (trimmed, non-empty) line: a number names a button while any
/// is shown; `\5` sends "5" as a message.
pub fn read<'a>(line: &'a str, screen: &Screen) -> Typed<'a> {
    if let Some(literal) = line.strip_prefix('\\').filter(|l| !l.is_empty()) {
        return Typed::Message(literal);
    }
    let Ok(number) = line.parse::<u32>() else {
        return Typed::Message(line);
    };
    let shown = screen.numbers();
    if shown.is_empty() {
        // No button to press: a number is just a message.
        return Typed::Message(line);
    }
    match screen.button(number) {
        Some(slot) => Typed::Press(slot.clone()),
        None => Typed::Hint(format!(
            "(no button [{number}] is shown; the buttons are {}. To send \"{number}\" to the bot as a message, type \\{number})",
            list(&shown)
        )),
    }
}

/// `[1]`, `[1] and [2]`, `[1] to [4]` or `[1], [3] and [4]`.
fn list(numbers: &[u32]) -> String {
    let contiguous = numbers.windows(2).all(|w| w[1] == w[0] + 1);
    match numbers {
        [] => "none".to_owned(),
        [one] => format!("[{one}]"),
        [first, .., last] if contiguous && numbers.len() > 2 => format!("[{first}] to [{last}]"),
        [rest @ .., last] => {
            let rest: Vec<String> = rest.iter().map(|n| format!("[{n}]")).collect();
            format!("{} and [{last}]", rest.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_lists_read_well() {
        assert_eq!(list(&[1]), "[1]");
        assert_eq!(list(&[1, 2]), "[1] and [2]");
        assert_eq!(list(&[1, 2, 3, 4]), "[1] to [4]");
        assert_eq!(list(&[1, 3, 4]), "[1], [3] and [4]");
    }

    #[test]
    fn without_buttons_shown_a_number_is_a_message() {
        let screen = Screen::new(1);
        assert_eq!(read("5", &screen), Typed::Message("5"));
        assert_eq!(read("/ping", &screen), Typed::Message("/ping"));
        assert_eq!(read("\\5", &screen), Typed::Message("5"));
    }
}
