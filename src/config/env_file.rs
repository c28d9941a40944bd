//! The env file (`.env`, or the `--env-file` the service's systemd unit
//! reads as its EnvironmentFile), parsed the way systemd parses it, so that a
//! file the service starts with is a file the operator's commands read the
//! same. A line that cannot be parsed is named by its number and what is
//! wrong with it, never by its content: it may hold a secret.

/// Why a line of the env file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineProblem {
    /// No `=` on the line.
    NoEquals,
    /// The text before `=` is not a variable name.
    BadName,
    /// A quote opened on this line is never closed.
    OpenQuote,
}

/// A refused line: its 1-based number and the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub problem: LineProblem,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.problem {
            LineProblem::NoEquals => "is not NAME=value (it has no '=')",
            LineProblem::BadName => {
                "does not start with a variable name (letters, digits and '_', then '='; no `export`)"
            }
            LineProblem::OpenQuote => "opens a quote that is never closed",
        };
        write!(
            f,
            "line {} {what}; the line is not shown, as it may hold a secret",
            self.line
        )
    }
}

/// Parser states, after systemd's `parse_env_file`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    SingleQuote,
    DoubleQuote,
    DoubleQuoteEscape,
    Comment,
    CommentEscape,
}

/// The `NAME=value` pairs of an env file, in order. As in systemd: `#` and
/// `;` start a comment line; whitespace around the name and around an
/// unquoted value is dropped, whitespace inside it kept (`PASSCODE=a b c` is
/// `a b c`); single quotes keep everything, double quotes honour `\"`, `\\`,
/// `` \` `` and `\$`; a backslash at the end of a line continues it. Unlike
/// systemd, which skips such lines with a warning, a line without `=`, with a
/// name that is not one, or with an unclosed quote is an error.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, LineError> {
    let mut pairs = Vec::new();
    let (mut key, mut value) = (String::new(), String::new());
    // Where trailing whitespace of an unquoted value starts, if it does.
    let mut trailing: Option<usize> = None;
    let (mut line, mut start) = (1, 1);
    let mut state = State::PreKey;
    let fail = |line, problem| Err(LineError { line, problem });
    for c in text.chars() {
        let newline = c == '\n';
        match state {
            State::PreKey if c == '#' || c == ';' => state = State::Comment,
            State::PreKey if newline || c.is_whitespace() => {}
            State::PreKey if c == '=' => return fail(line, LineProblem::BadName),
            State::PreKey => {
                (start, state) = (line, State::Key);
                key.push(c);
            }
            State::Key if newline => return fail(start, LineProblem::NoEquals),
            State::Key if c == '=' => {
                check_name(key.trim_end(), start)?;
                state = State::PreValue;
            }
            State::Key => key.push(c),
            State::PreValue | State::Value if newline => {
                if let Some(at) = trailing.take() {
                    value.truncate(at);
                }
                pairs.push((
                    std::mem::take(&mut key).trim_end().to_owned(),
                    std::mem::take(&mut value),
                ));
                state = State::PreKey;
            }
            State::PreValue if c == '\'' => state = State::SingleQuote,
            State::PreValue if c == '"' => state = State::DoubleQuote,
            State::PreValue | State::Value if c == '\\' => {
                trailing = None;
                state = State::ValueEscape;
            }
            State::PreValue if c.is_whitespace() => {}
            State::PreValue | State::Value => {
                if !c.is_whitespace() {
                    trailing = None;
                } else if trailing.is_none() {
                    trailing = Some(value.len());
                }
                value.push(c);
                state = State::Value;
            }
            State::ValueEscape => {
                // An escaped newline joins the lines; anything else is itself.
                if !newline {
                    value.push(c);
                }
                state = State::Value;
            }
            State::SingleQuote if c == '\'' => state = State::PreValue,
            State::SingleQuote => value.push(c),
            State::DoubleQuote if c == '"' => state = State::PreValue,
            State::DoubleQuote if c == '\\' => state = State::DoubleQuoteEscape,
            State::DoubleQuote => value.push(c),
            State::DoubleQuoteEscape => {
                if matches!(c, '"' | '\\' | '`' | '$') {
                    value.push(c);
                } else if !newline {
                    value.push('\\');
                    value.push(c);
                }
                state = State::DoubleQuote;
            }
            State::Comment if c == '\\' => state = State::CommentEscape,
            State::Comment if newline => state = State::PreKey,
            State::Comment => {}
            State::CommentEscape => state = State::Comment,
        }
        if newline {
            line += 1;
        }
    }
    match state {
        State::Key => fail(start, LineProblem::NoEquals),
        State::SingleQuote | State::DoubleQuote | State::DoubleQuoteEscape => {
            fail(start, LineProblem::OpenQuote)
        }
        State::PreValue | State::Value | State::ValueEscape => {
            if let Some(at) = trailing {
                value.truncate(at);
            }
            pairs.push((key.trim_end().to_owned(), value));
            Ok(pairs)
        }
        State::PreKey | State::Comment | State::CommentEscape => Ok(pairs),
    }
}

/// Letters, digits and `_`, not starting with a digit.
fn check_name(name: &str, line: usize) -> Result<(), LineError> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(LineError {
            line,
            problem: LineProblem::BadName,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn an_unquoted_value_keeps_its_inner_spaces_as_systemd_does() {
        assert_eq!(
            pairs("ENROLLMENT_PASSCODE=correct horse  battery \n"),
            [pair("ENROLLMENT_PASSCODE", "correct horse  battery")]
        );
        assert_eq!(pairs("  A = b c\t"), [pair("A", "b c")]);
    }

    #[test]
    fn comments_blank_lines_and_empty_values_are_read_as_systemd_reads_them() {
        let text = "# a comment\n; another\n\nA=\nB=1 # not a comment\n";
        assert_eq!(pairs(text), [pair("A", ""), pair("B", "1 # not a comment")]);
    }

    #[test]
    fn quotes_and_escapes_follow_systemd() {
        assert_eq!(pairs("A='x \"y\" $z'"), [pair("A", "x \"y\" $z")]);
        assert_eq!(
            pairs(r#"A="a \"b\" \$c \n""#),
            [pair("A", r#"a "b" $c \n"#)]
        );
        assert_eq!(
            pairs("A=one\\\ntwo\nB=2"),
            [pair("A", "onetwo"), pair("B", "2")]
        );
        assert_eq!(pairs("A=\"multi\nline\"\n"), [pair("A", "multi\nline")]);
        assert_eq!(pairs("A=a\\ "), [pair("A", "a ")]);
    }

    #[test]
    fn a_bad_line_is_named_by_number_and_kind_without_its_content() {
        let text = "A=1\n\nhunter two three\nB=2\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            err,
            LineError {
                line: 3,
                problem: LineProblem::NoEquals
            }
        );
        let shown = err.to_string();
        assert!(shown.starts_with("line 3 is not NAME=value"), "{shown}");
        assert!(!shown.contains("hunter"), "{shown}");

        let err = parse("A=1\nB=\"open secret\nC=3\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.problem, LineProblem::OpenQuote);
        assert!(!err.to_string().contains("secret\""));

        for text in ["export A=1", "1A=2", "A B=3", "=4"] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.problem, LineProblem::BadName, "{text}");
        }
    }
}
