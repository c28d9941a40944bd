//! The commands file (COMMANDS_FILE): the operator's relay commands, declared
//! in TOML, read and checked. Every problem is reported at once, each with
//! its line, so the operator fixes the whole file in one go.

mod checker;
mod command;
mod lines;
mod params;
mod raw;

use std::{collections::BTreeMap, fmt, path::Path, path::PathBuf, time::Duration};

use regex::Regex;

use crate::bot::effect::Role;

pub use checker::{Problem, Problems};

/// The largest commands file read: far more than any operator writes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The pattern a parameter's value must match when it declares no other.
pub const PLAIN_PATTERN: &str = "[A-Za-z0-9_.,:/@=+-]{1,256}";

/// A command's timeout when it declares none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest timeout a command may declare.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Names the relay itself will answer to (the user's jobs and cancelling
/// them) and /get (files from DOWNLOAD_DIRS), refused as command names
/// along with the bot's built-in commands.
pub const RESERVED_NAMES: [&str; 3] = ["cancel", "get", "jobs"];

/// A checked commands file.
#[derive(Debug, Clone)]
pub struct CommandsFile {
    /// In the order the file declares them.
    pub commands: Vec<Command>,
    /// The command that receives plain text (`text_command`), by name.
    pub text_command: Option<String>,
}

impl CommandsFile {
    /// The command named `name` (without the slash).
    pub fn find(&self, name: &str) -> Option<&Command> {
        self.commands.iter().find(|c| c.name == name)
    }
}

/// One declared command, checked.
#[derive(Debug, Clone)]
pub struct Command {
    /// Its name, a valid Telegram command name: `/name` runs it.
    pub name: String,
    /// Shown in /help and in Telegram's command menu.
    pub description: String,
    /// An absolute path to an executable, run directly (never by a shell).
    pub program: PathBuf,
    /// The argv after the program, exactly as declared.
    pub args: Vec<Arg>,
    /// In the order they are typed after `/name`.
    pub params: Vec<Param>,
    pub timeout: Duration,
    /// Needs an open session (/auth) and a confirmation.
    pub sensitive: bool,
    /// Asks for a confirmation even when not sensitive.
    pub confirm: bool,
    pub allow: Allow,
    pub workdir: Option<PathBuf>,
    /// The child's environment besides PATH, HOME and LANG.
    pub env: BTreeMap<String, String>,
    /// The parameter (an index into `params`) written to the child's stdin;
    /// `None`: stdin is closed.
    pub stdin: Option<usize>,
    /// The audit records how many arguments were given, not their values.
    pub secret_args: bool,
    /// Files (relative to `workdir`, `*` and `?` in the last component)
    /// sent as documents after the job ends.
    pub output_files: Vec<String>,
    /// Images among `output_files` go as photos.
    pub as_photo: bool,
}

/// One element of a command's argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Passed as written.
    Literal(String),
    /// `prefix`, a parameter's value, `suffix`: still one element, whatever
    /// the value holds.
    Value {
        prefix: String,
        /// An index into the command's `params`.
        param: usize,
        suffix: String,
        /// Whether a value starting with '-' may stand here: the element
        /// has a prefix, it follows `--` or an option that takes it as its
        /// argument, or the parameter says `allow_dash = true`.
        dash_ok: bool,
    },
}

/// A command's parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub kind: Kind,
    /// Used when the parameter is not given; `None`: it is required.
    /// Already checked like a value typed in the chat.
    pub default: Option<String>,
    /// A value may start with '-' wherever the parameter stands.
    pub allow_dash: bool,
}

impl Param {
    /// How the usage line writes it: `UNIT`, or `[LINES]` when optional.
    pub fn usage(&self) -> String {
        let name = self.name.to_uppercase();
        match self.default {
            Some(_) => format!("[{name}]"),
            None => name,
        }
    }
}

/// What a parameter's value may be.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A regex the whole value must match (anchored here, whatever the file
    /// says); `plain` when it is [`PLAIN_PATTERN`].
    Pattern { regex: Regex, plain: bool },
    /// One of these words exactly.
    Choices(Vec<String>),
    /// A whole number within the bounds.
    Int { min: i64, max: i64 },
    /// The rest of the message, as one element (the last parameter only).
    Text,
    /// A file the user sent the bot, as its absolute path under
    /// UPLOAD_DIR: the command is sent as a reply to the file. Never typed.
    Upload,
}

/// Who may run a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allow {
    /// Every allowed user (no `allow` key).
    Everyone,
    /// Only these roles and users.
    Only(Vec<Grant>),
}

/// One entry of `allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Role(Role),
    User(i64),
}

/// Why the commands file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the commands file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the commands file {} is larger than {} bytes: is it the right file?",
        path.display(),
        MAX_FILE_BYTES
    )]
    TooLarge { path: PathBuf },
    #[error("the commands file {} is not UTF-8 text", path.display())]
    NotText { path: PathBuf },
    #[error("the commands file {} has {} problem(s):\n{problems}", path.display(), problems.0.len())]
    Invalid { path: PathBuf, problems: Problems },
}

/// Reads and checks the commands file at `path`.
pub fn load(path: &Path) -> Result<CommandsFile, LoadError> {
    use std::io::Read as _;
    let read = |source| LoadError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| LoadError::NotText {
        path: path.to_owned(),
    })?;
    parse(&text).map_err(|problems| LoadError::Invalid {
        path: path.to_owned(),
        problems,
    })
}

/// Checks the text of a commands file.
pub fn parse(text: &str) -> Result<CommandsFile, Problems> {
    parse_under(text, Path::new("/"))
}

/// [`parse`], with `root` standing for `/` where programs and working
/// directories are looked for (tests put real files under a temporary root).
pub fn parse_under(text: &str, root: &Path) -> Result<CommandsFile, Problems> {
    checker::Checker::new(text, root).run()
}

impl fmt::Display for Command {
    /// The usage line: `/logs UNIT [LINES]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.name)?;
        for param in self
            .params
            .iter()
            .filter(|p| !matches!(p.kind, Kind::Upload))
        {
            write!(f, " {}", param.usage())?;
        }
        if let Some(file) = self.params.iter().find(|p| matches!(p.kind, Kind::Upload)) {
            write!(
                f,
                " (as a reply to the file you sent, for {})",
                file.name.to_uppercase()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
