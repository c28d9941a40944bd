//! Walks the file: its TOML, its top-level keys, each `[[command]]` in turn
//! (so one bad command does not hide the problems of the next), and what
//! spans commands: duplicate names and `text_command`.

use std::{fmt, ops::Range, path::Path};

use serde::Deserialize;
use toml::{
    Spanned,
    de::{DeTable, DeValue, ValueDeserializer},
};

use super::{CommandsFile, Kind, command, lines::Lines, raw::RawCommand};

/// The keys of a `[[command]]` (those of `raw::RawCommand`).
const COMMAND_KEYS: [&str; 15] = [
    "name",
    "description",
    "program",
    "args",
    "params",
    "timeout",
    "sensitive",
    "confirm",
    "allow",
    "workdir",
    "env",
    "stdin",
    "secret_args",
    "output_files",
    "as_photo",
];

/// The keys of a parameter (those of `raw::RawParam`).
const PARAM_KEYS: [&str; 8] = [
    "name",
    "type",
    "pattern",
    "choices",
    "min",
    "max",
    "default",
    "allow_dash",
];

/// One problem in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Counted from 1.
    pub line: usize,
    pub message: String,
}

/// Every problem found in the file, in the order of their lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    /// One `LINE: problem` a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", problem.line, problem.message)?;
        }
        Ok(())
    }
}

/// The state of one check of one file.
pub struct Checker<'a> {
    text: &'a str,
    /// Stands for `/` when looking at programs and working directories.
    pub root: &'a Path,
    lines: Lines,
    problems: Vec<Problem>,
    /// Names of commands left out for their problems: `text_command` may
    /// name one without a second problem.
    failed: Vec<String>,
}

impl<'a> Checker<'a> {
    pub fn new(text: &'a str, root: &'a Path) -> Self {
        Self {
            text,
            root,
            lines: Lines::new(text),
            problems: Vec::new(),
            failed: Vec::new(),
        }
    }

    /// Records a problem found at `span` (byte offsets).
    pub fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            line: self.lines.of(span.start),
            message: message.into(),
        });
    }

    /// How many problems are recorded so far.
    pub fn count(&self) -> usize {
        self.problems.len()
    }

    pub fn run(mut self) -> Result<CommandsFile, Problems> {
        let table = match DeTable::parse(self.text) {
            Ok(table) => table,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                self.problem(span, format!("invalid TOML: {}", e.message()));
                return Err(self.finish());
            }
        };
        let mut commands = Vec::new();
        let mut text_command = None;
        for (key, value) in table.into_inner() {
            match key.get_ref().as_ref() {
                "command" => commands = self.commands(value),
                "text_command" => text_command = self.read::<Spanned<String>>(value),
                other => self.problem(
                    key.span(),
                    format!(
                        "unknown key `{other}`: the file holds [[command]] tables and text_command"
                    ),
                ),
            }
        }
        let commands = self.unique(commands);
        self.text_command(text_command.as_ref(), &commands);
        if !self.problems.is_empty() {
            return Err(self.finish());
        }
        Ok(CommandsFile {
            commands: commands.into_iter().map(Spanned::into_inner).collect(),
            text_command: text_command.map(|t| t.into_inner().trim_start_matches('/').to_owned()),
        })
    }

    /// Deserializes `value`, recording its problem when it cannot be.
    pub fn read<T: for<'de> Deserialize<'de>>(&mut self, value: Spanned<DeValue<'_>>) -> Option<T> {
        let span = value.span();
        T::deserialize(ValueDeserializer::from(value))
            .map_err(|e| self.problem(e.span().unwrap_or(span), e.message().to_owned()))
            .ok()
    }

    /// Each `[[command]]`, checked; those with problems are left out.
    fn commands(&mut self, value: Spanned<DeValue<'_>>) -> Vec<Spanned<super::Command>> {
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.problem(span, "`command` must be [[command]] tables");
            return Vec::new();
        };
        let mut commands = Vec::new();
        for item in items.iter().cloned() {
            let span = item.span();
            let item = Spanned::new(span.clone(), self.without_unknown_keys(item.into_inner()));
            let Some(raw) = self.read::<RawCommand>(item) else {
                continue;
            };
            let name = raw.name.get_ref().clone();
            match command::check(self, raw) {
                Some(checked) => commands.push(Spanned::new(span, checked)),
                None => self.failed.push(name),
            }
        }
        commands
    }

    /// `command` without the keys it should not have, each one a problem:
    /// serde would stop at the first, hiding the command's other problems.
    fn without_unknown_keys<'i>(&mut self, mut command: DeValue<'i>) -> DeValue<'i> {
        let DeValue::Table(table) = &mut command else {
            return command;
        };
        self.strip(table, &COMMAND_KEYS, "a [[command]]");
        for (key, value) in table.iter_mut() {
            let DeValue::Array(params) = value.get_mut() else {
                continue;
            };
            if key.get_ref() != "params" {
                continue;
            }
            for param in params.iter_mut() {
                if let DeValue::Table(param) = param.get_mut() {
                    self.strip(param, &PARAM_KEYS, "a parameter");
                }
            }
        }
        command
    }

    fn strip(&mut self, table: &mut DeTable<'_>, known: &[&str], what: &str) {
        for (key, value) in std::mem::replace(table, DeTable::new()) {
            if known.contains(&key.get_ref().as_ref()) {
                table.insert(key, value);
                continue;
            }
            self.problem(
                key.span(),
                format!(
                    "unknown key `{}` in {what} (its keys: {})",
                    key.get_ref(),
                    known.join(", ")
                ),
            );
        }
    }

    /// Drops the second command of a name, with a problem naming the first.
    fn unique(&mut self, commands: Vec<Spanned<super::Command>>) -> Vec<Spanned<super::Command>> {
        let mut kept: Vec<Spanned<super::Command>> = Vec::new();
        for command in commands {
            if let Some(first) = kept
                .iter()
                .find(|c| c.get_ref().name == command.get_ref().name)
            {
                let first_line = self.lines.of(first.span().start);
                self.problem(
                    command.span(),
                    format!(
                        "/{} is declared twice (first on line {first_line})",
                        command.get_ref().name
                    ),
                );
                continue;
            }
            kept.push(command);
        }
        kept
    }

    /// `text_command` names a declared command that takes text.
    fn text_command(
        &mut self,
        name: Option<&Spanned<String>>,
        commands: &[Spanned<super::Command>],
    ) {
        let Some(name) = name else { return };
        let wanted = name.get_ref().trim_start_matches('/');
        match commands.iter().find(|c| c.get_ref().name == wanted) {
            None if self.failed.iter().any(|n| n == wanted) => {}
            None => self.problem(
                name.span(),
                format!("text_command names /{wanted}, which is not declared here"),
            ),
            Some(command)
                if !command
                    .get_ref()
                    .params
                    .iter()
                    .any(|p| matches!(p.kind, Kind::Text)) =>
            {
                self.problem(
                    name.span(),
                    format!(
                        "text_command names /{wanted}, which has no text parameter to receive the message"
                    ),
                );
            }
            Some(_) => {}
        }
    }

    fn finish(mut self) -> Problems {
        self.problems.sort_by_key(|p| p.line);
        Problems(self.problems)
    }
}
