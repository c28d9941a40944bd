//! Where each secret comes from: its variable, a file named by `NAME_FILE`,
//! or a systemd credential (`$CREDENTIALS_DIRECTORY/NAME`, from the unit's
//! LoadCredentialEncrypted=), so that the env file need hold no secret.

use std::{collections::HashMap, fmt, path::PathBuf};

use super::Problem;

/// The secrets that may come from a file, each with its `_FILE` variable.
pub const SECRETS: [(&str, &str); 4] = [
    ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN_FILE"),
    ("WEBHOOK_SECRET", "WEBHOOK_SECRET_FILE"),
    ("ENROLLMENT_PASSCODE", "ENROLLMENT_PASSCODE_FILE"),
    ("TOTP_SECRET", "TOTP_SECRET_FILE"),
];

/// Set by systemd when the unit passes credentials.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// A secret file larger than this is not a secret (a wrong path, say).
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Where a secret's value was read from (shown by `telegate check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The variable, in the process environment.
    Environment,
    /// The variable, in this env file.
    EnvFile(PathBuf),
    /// The file `variable` (`NAME_FILE`) names.
    File {
        variable: &'static str,
        path: PathBuf,
    },
    /// A systemd credential: `$CREDENTIALS_DIRECTORY/NAME`.
    Credential(PathBuf),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment => f.write_str("the environment"),
            Self::EnvFile(path) => write!(f, "the env file {}", path.display()),
            Self::File { variable, path } => write!(f, "{variable}={}", path.display()),
            Self::Credential(path) => write!(f, "the systemd credential {}", path.display()),
        }
    }
}

/// The secrets' values and sources, and the problems found reading them.
#[derive(Default)]
pub(super) struct Resolved {
    pub values: HashMap<&'static str, String>,
    pub sources: Vec<(&'static str, SecretSource)>,
    /// Each with the secret it is about.
    pub problems: Vec<(&'static str, Problem)>,
}

/// Reads each secret from the one place it is given. `origin` says where a
/// variable found by `lookup` was set (the environment or the env file).
pub(super) fn resolve(
    lookup: &impl Fn(&str) -> Option<String>,
    origin: &impl Fn(&str) -> SecretSource,
) -> Resolved {
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let credentials = set(CREDENTIALS_DIRECTORY).map(PathBuf::from);
    let mut resolved = Resolved::default();
    for (name, file_variable) in SECRETS {
        let mut given: Vec<(SecretSource, Option<String>)> = Vec::new();
        if let Some(value) = set(name) {
            given.push((origin(name), Some(value)));
        }
        if let Some(path) = set(file_variable) {
            let path = PathBuf::from(path.trim());
            given.push((
                SecretSource::File {
                    variable: file_variable,
                    path,
                },
                None,
            ));
        }
        if let Some(path) = credentials.as_ref().map(|dir| dir.join(name))
            && std::fs::symlink_metadata(&path).is_ok()
        {
            given.push((SecretSource::Credential(path), None));
        }
        match given.as_mut_slice() {
            [] => {}
            [(source, value)] => {
                let read = match (value.take(), &*source) {
                    (Some(value), _) => Ok(value),
                    (None, SecretSource::File { path, .. } | SecretSource::Credential(path)) => {
                        read_secret(path)
                    }
                    (None, _) => unreachable!("a variable always has its value"),
                };
                match read {
                    Ok(value) => {
                        resolved.values.insert(name, value);
                        resolved.sources.push((name, source.clone()));
                    }
                    Err(message) => {
                        let variable = match source {
                            SecretSource::File { variable, .. } => variable,
                            _ => name,
                        };
                        resolved.problems.push((name, Problem { variable, message }));
                    }
                }
            }
            [(first, _), (second, _), ..] => resolved.problems.push((
                name,
                Problem {
                    variable: name,
                    message: format!(
                        "is given twice, by {first} and by {second}: keep one (a secret comes from its variable, {file_variable}, or a systemd credential)"
                    ),
                },
            )),
        }
    }
    resolved
}

/// The file's text without one trailing newline. Errors name the path and
/// what is wrong, never the content.
fn read_secret(path: &std::path::Path) -> Result<String, String> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name} cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{name} is not a file"));
    }
    if meta.len() > MAX_SECRET_BYTES {
        return Err(format!(
            "{name} is larger than 64 KiB, too large for a secret: check the path"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{name} cannot be read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8 text"))?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(format!("{name} is empty"));
    }
    Ok(text.to_owned())
}
