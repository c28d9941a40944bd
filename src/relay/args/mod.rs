//! A command's argv, built from the text a user typed after `/name`.
//!
//! The text is split into words at whitespace, one word a parameter in
//! order; a `text` parameter (the last) takes the rest of the message,
//! trimmed. Each value is checked against its parameter, then put in place
//! of its `{name}` within one argv element: a value never becomes two
//! elements, never goes through a shell, and never starts with '-' where
//! the program would read it as an option.

use std::fmt;

use super::spec::{Arg, Command, Kind, Param};

/// What a command runs with, ready for the process runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argv {
    /// The elements after the program, one for each declared `args` element.
    pub args: Vec<String>,
    /// What is written to the child's stdin; `None`: stdin is closed.
    pub stdin: Option<String>,
}

/// Why nothing is started; shown to the user with the usage line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("{param} is missing. Usage: {usage}")]
    Missing { param: String, usage: String },
    #[error(
        "{param} is a file: send the command as a reply to a file you sent me (once I said it was stored). Usage: {usage}"
    )]
    NoFile { param: String, usage: String },
    #[error("too many arguments. Usage: {usage}")]
    Extra { usage: String },
    #[error("{param} {reason}. Usage: {usage}")]
    Invalid {
        param: String,
        reason: Refusal,
        usage: String,
    },
}

/// Why a value is refused (the value itself is never echoed: it may be long,
/// or secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Nul,
    Dash,
    Plain,
    Pattern,
    Choices(Vec<String>),
    Int { min: i64, max: i64 },
    Empty,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nul => f.write_str("must not contain a NUL character"),
            Self::Dash => f.write_str("must not start with '-'"),
            Self::Plain => f.write_str(
                "may hold only letters, digits and _ . , : / @ = + - (1 to 256 of them)",
            ),
            Self::Pattern => f.write_str("is not in the form this command accepts"),
            Self::Choices(words) => write!(f, "must be one of: {}", words.join(", ")),
            Self::Int { min, max } => match (*min, *max) {
                (i64::MIN, i64::MAX) => f.write_str("must be a whole number"),
                (min, i64::MAX) => write!(f, "must be a whole number, at least {min}"),
                (i64::MIN, max) => write!(f, "must be a whole number, at most {max}"),
                (min, max) => write!(f, "must be a whole number from {min} to {max}"),
            },
            Self::Empty => f.write_str("must not be empty"),
        }
    }
}

/// Checks `value` against what `param` accepts (not where it stands: see
/// [`build`] for the '-' rule); the value to pass on (an int in its plain
/// decimal form).
pub fn check_value(param: &Param, value: &str) -> Result<String, Refusal> {
    if value.contains('\0') {
        return Err(Refusal::Nul);
    }
    match &param.kind {
        Kind::Pattern { regex, plain } => match regex.is_match(value) {
            true => Ok(value.to_owned()),
            false if *plain => Err(Refusal::Plain),
            false => Err(Refusal::Pattern),
        },
        Kind::Choices(words) => match words.iter().any(|w| w == value) {
            true => Ok(value.to_owned()),
            false => Err(Refusal::Choices(words.clone())),
        },
        Kind::Int { min, max } => value
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(&n))
            .map(|n| n.to_string())
            .ok_or(Refusal::Int {
                min: *min,
                max: *max,
            }),
        Kind::Text if value.trim().is_empty() => Err(Refusal::Empty),
        Kind::Text => Ok(value.to_owned()),
        // The path of a file telegate stored itself.
        Kind::Upload => Ok(value.to_owned()),
    }
}

/// The argv of `command` for `text`, what the user typed after `/name`.
pub fn build(command: &Command, text: &str) -> Result<Argv, ArgsError> {
    build_with_file(command, text, None)
}

/// [`build`], with `file` (the absolute path of an uploaded file the
/// command replies to) as the value of its upload parameter.
pub fn build_with_file(
    command: &Command,
    text: &str,
    file: Option<&str>,
) -> Result<Argv, ArgsError> {
    let usage = || command.to_string();
    let mut rest = text;
    let mut values = Vec::with_capacity(command.params.len());
    for param in &command.params {
        if matches!(param.kind, Kind::Upload) {
            let file = file.ok_or_else(|| ArgsError::NoFile {
                param: param.name.to_uppercase(),
                usage: usage(),
            })?;
            values.push(file.to_owned());
            continue;
        }
        let typed = match param.kind {
            Kind::Text => Some(std::mem::take(&mut rest).trim()).filter(|t| !t.is_empty()),
            _ => next_word(&mut rest),
        };
        let value = match (typed, &param.default) {
            (Some(typed), _) => check_value(param, typed).map_err(|reason| ArgsError::Invalid {
                param: param.name.to_uppercase(),
                reason,
                usage: usage(),
            })?,
            (None, Some(default)) => default.clone(),
            (None, None) => {
                return Err(ArgsError::Missing {
                    param: param.name.to_uppercase(),
                    usage: usage(),
                });
            }
        };
        values.push(value);
    }
    if next_word(&mut rest).is_some() {
        return Err(ArgsError::Extra { usage: usage() });
    }
    let mut args = Vec::with_capacity(command.args.len());
    for arg in &command.args {
        args.push(match arg {
            Arg::Literal(text) => text.clone(),
            Arg::Value {
                prefix,
                param,
                suffix,
                dash_ok,
            } => {
                let value = &values[*param];
                if !dash_ok && value.starts_with('-') {
                    return Err(ArgsError::Invalid {
                        param: command.params[*param].name.to_uppercase(),
                        reason: Refusal::Dash,
                        usage: usage(),
                    });
                }
                format!("{prefix}{value}{suffix}")
            }
        });
    }
    Ok(Argv {
        args,
        stdin: command.stdin.map(|i| values[i].clone()),
    })
}

/// The next whitespace-separated word of `rest`, which moves past it.
fn next_word<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let text = rest.trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    *rest = &text[end..];
    Some(&text[..end]).filter(|w| !w.is_empty())
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
