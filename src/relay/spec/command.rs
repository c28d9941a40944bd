//! The checks of one `[[command]]`: its name, program, argv template,
//! parameters, and the keys that shape how it runs.

use std::{
    collections::BTreeMap,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use toml::Spanned;

use super::{
    Allow, Arg, Command, DEFAULT_TIMEOUT, Grant, MAX_TIMEOUT, RESERVED_NAMES,
    checker::Checker,
    params,
    raw::{RawCommand, RawGrant},
};
use crate::{
    bot::{commands::COMMANDS, effect::Role},
    config::parse_duration,
    relay::placeholder,
};

/// Telegram's limit on a command's description.
const MAX_DESCRIPTION: usize = 256;

/// Checks `raw`; `None` when it has a problem (each one recorded).
pub fn check(c: &mut Checker, raw: RawCommand) -> Option<Command> {
    let before = c.count();
    name(c, &raw.name);
    let description = raw.description.get_ref().trim();
    if description.is_empty() || description.chars().count() > MAX_DESCRIPTION {
        c.problem(
            raw.description.span(),
            format!("description must be 1-{MAX_DESCRIPTION} characters (Telegram shows it in the command menu)"),
        );
    }
    let program = absolute(c, &raw.program, "program");
    if let Some(problem) = program.as_ref().and_then(|p| program_problem(c.root, p)) {
        c.problem(raw.program.span(), problem);
    }
    let workdir = raw.workdir.as_ref().and_then(|w| absolute(c, w, "workdir"));
    if let (Some(path), Some(span)) = (&workdir, raw.workdir.as_ref().map(Spanned::span))
        && !under(c.root, path).is_dir()
    {
        c.problem(
            span,
            format!("workdir {} is not a directory", path.display()),
        );
    }
    let params = params::check_all(c, raw.params);
    let args = args(c, &raw.args, &params);
    let stdin = raw.stdin.as_ref().and_then(|s| stdin(c, s, &params));
    // Named anywhere, even in an element with a problem of its own: the
    // parameter is not reported unused as well.
    let mentioned: Vec<&str> = raw
        .args
        .iter()
        .chain(&raw.stdin)
        .flat_map(|text| placeholder::find(text.get_ref()))
        .map(|p| p.name)
        .collect();
    params::check_use(c, &params, &args, &mentioned);
    let timeout = timeout(c, raw.timeout.as_ref());
    let allow = allow(c, raw.allow.as_ref());
    let env = env(c, &raw.env);
    let output_files = output_files(c, &raw.output_files, workdir.is_some());
    if c.count() > before {
        return None;
    }
    Some(Command {
        name: raw.name.into_inner(),
        description: description.to_owned(),
        program: program?,
        args,
        params: params.into_iter().map(|p| p.param).collect(),
        timeout,
        sensitive: raw.sensitive,
        confirm: raw.confirm,
        allow,
        workdir,
        env,
        stdin,
        secret_args: raw.secret_args,
        output_files,
        as_photo: raw.as_photo,
    })
}

/// `output_files`: relative paths below the workdir, without `..`, with
/// `*` and `?` only in the last component.
fn output_files(c: &mut Checker, patterns: &[Spanned<String>], has_workdir: bool) -> Vec<String> {
    if let (false, Some(first)) = (has_workdir, patterns.first()) {
        c.problem(
            first.span(),
            "output_files needs a workdir: the files are looked for in it",
        );
    }
    let mut kept = Vec::new();
    for pattern in patterns {
        let text = pattern.get_ref();
        let path = std::path::Path::new(text);
        let parts: Vec<_> = path.components().collect();
        let wild = |part: &std::path::Component<'_>| {
            part.as_os_str().to_string_lossy().contains(['*', '?', '['])
        };
        let problem = if text.is_empty() || path.is_absolute() {
            Some("is not a path relative to the workdir")
        } else if parts
            .iter()
            .any(|p| !matches!(p, std::path::Component::Normal(_)))
        {
            Some("may not hold `..` or `.`")
        } else if parts.iter().rev().skip(1).any(wild) {
            Some("may have `*` and `?` only in its last component")
        } else if text.contains('[') {
            Some("may use `*` and `?`, not `[...]`")
        } else {
            None
        };
        match problem {
            Some(problem) => c.problem(pattern.span(), format!("output_files {text:?} {problem}")),
            None => kept.push(text.clone()),
        }
    }
    kept
}

/// A valid Telegram command name that is not taken.
fn name(c: &mut Checker, name: &Spanned<String>) {
    let text = name.get_ref();
    let valid = (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        c.problem(
            name.span(),
            format!("name {text:?} is not a Telegram command name: 1-32 of a-z, 0-9 and _"),
        );
    } else if COMMANDS.iter().any(|b| b.name == text) || RESERVED_NAMES.contains(&text.as_str()) {
        c.problem(
            name.span(),
            format!("name {text:?} is taken: /{text} is one of telegate's own commands"),
        );
    }
}

/// An absolute path without NUL; `None` (and a problem) otherwise.
fn absolute(c: &mut Checker, value: &Spanned<String>, key: &str) -> Option<PathBuf> {
    let text = value.get_ref();
    if text.contains('\0') {
        c.problem(
            value.span(),
            format!("{key} must not contain a NUL character"),
        );
        return None;
    }
    if !text.starts_with('/') {
        c.problem(
            value.span(),
            format!("{key} must be an absolute path (starting with /), got {text:?}"),
        );
        return None;
    }
    Some(PathBuf::from(text))
}

/// `path` looked for under `root`.
fn under(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// Why `path` (under `root`) cannot be run, if it cannot: it must be a
/// regular file (after symlinks) with an execute bit.
fn program_problem(root: &Path, path: &Path) -> Option<String> {
    let shown = path.display();
    match std::fs::metadata(under(root, path)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(format!("program {shown} does not exist"))
        }
        Err(e) => Some(format!("program {shown} cannot be checked: {e}")),
        Ok(meta) if !meta.is_file() => Some(format!("program {shown} is not a regular file")),
        Ok(meta) if meta.permissions().mode() & 0o111 == 0 => Some(format!(
            "program {shown} is not executable (chmod +x it, or name the right file)"
        )),
        Ok(_) => None,
    }
}

/// The argv template: literals, and elements holding one placeholder.
fn args(c: &mut Checker, raw: &[Spanned<String>], params: &[params::Checked]) -> Vec<Arg> {
    let mut args = Vec::with_capacity(raw.len());
    for (i, element) in raw.iter().enumerate() {
        let text = element.get_ref();
        if text.contains('\0') {
            c.problem(element.span(), "args must not contain a NUL character");
            continue;
        }
        let found = placeholder::find(text);
        let [found] = found.as_slice() else {
            if found.len() > 1 {
                c.problem(
                    element.span(),
                    format!(
                        "args element {text:?} holds {} placeholders: give each its own element",
                        found.len()
                    ),
                );
            }
            args.push(Arg::Literal(text.clone()));
            continue;
        };
        let Some(param) = params.iter().position(|p| p.param.name == found.name) else {
            c.problem(element.span(), unknown_placeholder(found.name, params));
            continue;
        };
        let prefix = &text[..found.range.start];
        let previous = i.checked_sub(1).map(|p| raw[p].get_ref().as_str());
        let dash_ok = !prefix.is_empty()
            || params[param].param.allow_dash
            || previous.is_some_and(takes_next);
        args.push(Arg::Value {
            prefix: prefix.to_owned(),
            param,
            suffix: text[found.range.end..].to_owned(),
            dash_ok,
        });
    }
    args
}

/// Whether a declared element makes the program read the next one as a
/// value, never as an option: `--`, or an option such as `-n` or `--unit`
/// (not `--unit=x`, which holds its value already, nor a lone `-`).
fn takes_next(element: &str) -> bool {
    if element == "--" {
        return true;
    }
    let long_with_value = element.starts_with("--") && element.contains('=');
    element.len() > 1
        && element.starts_with('-')
        && !long_with_value
        && placeholder::find(element).is_empty()
}

fn unknown_placeholder(name: &str, params: &[params::Checked]) -> String {
    let declared: Vec<&str> = params.iter().map(|p| p.param.name.as_str()).collect();
    match declared.is_empty() {
        true => format!("{{{name}}} names no parameter: this command declares none"),
        false => format!(
            "{{{name}}} names no parameter (declared: {})",
            declared.join(", ")
        ),
    }
}

/// `stdin = "{name}"`: the index of that parameter.
fn stdin(c: &mut Checker, value: &Spanned<String>, params: &[params::Checked]) -> Option<usize> {
    let text = value.get_ref();
    let found = placeholder::find(text);
    let whole = matches!(found.as_slice(), [p] if p.range == (0..text.len()));
    if !whole {
        c.problem(
            value.span(),
            format!("stdin must be one placeholder such as \"{{question}}\", got {text:?}"),
        );
        return None;
    }
    let name = found[0].name;
    let index = params.iter().position(|p| p.param.name == name);
    if index.is_none() {
        c.problem(value.span(), unknown_placeholder(name, params));
    }
    index
}

fn timeout(
    c: &mut Checker,
    value: Option<&Spanned<super::raw::DurationText>>,
) -> std::time::Duration {
    let Some(value) = value else {
        return DEFAULT_TIMEOUT;
    };
    let text = &value.get_ref().0;
    match parse_duration(text) {
        Some(d) if !d.is_zero() && d <= MAX_TIMEOUT => d,
        Some(_) => {
            c.problem(
                value.span(),
                format!("timeout must be more than 0 and at most 24h, got {text:?}"),
            );
            DEFAULT_TIMEOUT
        }
        None => {
            c.problem(
                value.span(),
                format!("timeout {text:?} is not a duration such as \"30s\", \"5m\" or \"1h\""),
            );
            DEFAULT_TIMEOUT
        }
    }
}

fn allow(c: &mut Checker, value: Option<&Spanned<Vec<Spanned<RawGrant>>>>) -> Allow {
    let Some(value) = value else {
        return Allow::Everyone;
    };
    if value.get_ref().is_empty() {
        c.problem(
            value.span(),
            "allow is empty, so nobody could run the command: name roles or user ids, or leave allow out for every allowed user",
        );
    }
    let mut grants = Vec::new();
    for entry in value.get_ref() {
        match entry.get_ref() {
            RawGrant::Role(role) => match Role::parse(role) {
                Some(role) => grants.push(Grant::Role(role)),
                None => c.problem(
                    entry.span(),
                    format!("allow: {role:?} is not a role (\"owner\" or \"user\"); write user ids as numbers"),
                ),
            },
            RawGrant::User(id) if *id > 0 => grants.push(Grant::User(*id)),
            RawGrant::User(id) => c.problem(
                entry.span(),
                format!("allow: {id} is not a user id (user ids are positive)"),
            ),
        }
    }
    Allow::Only(grants)
}

fn env(
    c: &mut Checker,
    raw: &BTreeMap<Spanned<String>, Spanned<String>>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (key, value) in raw {
        let name = key.get_ref();
        if !is_variable_name(name) {
            c.problem(
                key.span(),
                format!("env: {name:?} is not a variable name (letters, digits and _, not starting with a digit)"),
            );
        } else if value.get_ref().contains('\0') {
            c.problem(
                value.span(),
                format!("env: {name} must not contain a NUL character"),
            );
        } else {
            env.insert(name.clone(), value.get_ref().clone());
        }
    }
    env
}

/// An environment variable's name: letters, digits and _, not starting
/// with a digit.
fn is_variable_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| !b.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
