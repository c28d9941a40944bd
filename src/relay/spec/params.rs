//! The checks of a command's `params`: each one alone, then how they fit
//! the command (order, use, defaults where they stand).

use std::ops::Range;

use regex::RegexBuilder;
use toml::Spanned;

use super::{
    Arg, Kind, PLAIN_PATTERN, Param,
    checker::Checker,
    raw::{DefaultValue, RawParam},
};
use crate::relay::{args::check_value, placeholder};

/// The most a compiled pattern may take: an operator's regex, but bounded.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// A parameter and where it was declared. Kept even when it has a
/// problem (the command is refused then anyway), so that its placeholders
/// are not reported as unknown too.
pub struct Checked {
    pub param: Param,
    span: Range<usize>,
    default_span: Option<Range<usize>>,
}

/// Each parameter alone, and that no name is declared twice.
pub fn check_all(c: &mut Checker, raw: Vec<Spanned<RawParam>>) -> Vec<Checked> {
    let mut checked: Vec<Checked> = Vec::new();
    for raw in raw {
        let span = raw.span();
        let name = raw.get_ref().name.get_ref().clone();
        if checked.iter().any(|p| p.param.name == name) {
            c.problem(span, format!("parameter {name:?} is declared twice"));
            continue;
        }
        let param = one(c, raw.into_inner());
        checked.push(Checked {
            param: param.0,
            span,
            default_span: param.1,
        });
    }
    checked
}

/// One parameter, and the span of its default.
fn one(c: &mut Checker, raw: RawParam) -> (Param, Option<Range<usize>>) {
    let name = raw.name.get_ref();
    if !placeholder::is_name(name) {
        c.problem(
            raw.name.span(),
            format!("parameter name {name:?} must be 1-32 letters, digits or _, not starting with a digit"),
        );
    }
    let kind = kind(c, &raw);
    let kind_ok = kind.is_some();
    let mut param = Param {
        name: name.clone(),
        kind: kind.unwrap_or(Kind::Choices(Vec::new())),
        default: None,
        allow_dash: raw.allow_dash,
    };
    let default_span = raw.default.as_ref().map(Spanned::span);
    if let Some(default) = raw.default.as_ref().filter(|_| kind_ok) {
        param.default = default_value(c, &param, default);
    }
    (param, default_span)
}

/// The kind `type` names (or the keys imply), with only its own keys.
fn kind(c: &mut Checker, raw: &RawParam) -> Option<Kind> {
    let declared = raw.kind.as_ref().map(|k| k.get_ref().as_str());
    let kind = match declared {
        Some(kind) => kind,
        None if raw.choices.is_some() => "choices",
        None => "pattern",
    };
    let own: &[&str] = match kind {
        "pattern" => &["pattern"],
        "choices" => &["choices"],
        "int" => &["min", "max"],
        "text" | "upload" => &[],
        other => {
            let span = raw.kind.as_ref().map_or(raw.name.span(), Spanned::span);
            c.problem(
                span,
                format!(
                    "type {other:?} is not a parameter type (pattern, choices, int, text or upload)"
                ),
            );
            return None;
        }
    };
    let given = [
        ("pattern", raw.pattern.as_ref().map(Spanned::span)),
        ("choices", raw.choices.as_ref().map(Spanned::span)),
        ("min", raw.min.as_ref().map(Spanned::span)),
        ("max", raw.max.as_ref().map(Spanned::span)),
    ];
    let mut stray = false;
    for (key, span) in given {
        if let Some(span) = span.filter(|_| !own.contains(&key)) {
            c.problem(
                span,
                format!("`{key}` does not apply to a parameter of type {kind:?}"),
            );
            stray = true;
        }
    }
    if stray {
        return None;
    }
    match kind {
        "pattern" => pattern(c, raw.pattern.as_ref()),
        "choices" => choices(c, raw),
        "int" => int(c, raw),
        "upload" => Some(Kind::Upload),
        _ => Some(Kind::Text),
    }
}

/// The operator's regex, anchored here: the whole value must match.
fn pattern(c: &mut Checker, raw: Option<&Spanned<String>>) -> Option<Kind> {
    let source = raw.map_or(PLAIN_PATTERN, |p| p.get_ref().as_str());
    let anchored = format!("^(?:{source})$");
    match RegexBuilder::new(&anchored)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
    {
        Ok(regex) => Some(Kind::Pattern {
            regex,
            plain: raw.is_none(),
        }),
        Err(e) => {
            // The error's last line says what is wrong; the lines above
            // draw the pattern (anchored) with a caret.
            let reason = e.to_string();
            let reason = reason.lines().last().unwrap_or_default().trim().to_owned();
            let span = raw.map_or(0..0, Spanned::span);
            c.problem(span, format!("pattern does not compile: {reason}"));
            None
        }
    }
}

fn choices(c: &mut Checker, raw: &RawParam) -> Option<Kind> {
    let Some(list) = &raw.choices else {
        c.problem(
            raw.name.span(),
            "a parameter of type \"choices\" needs `choices`",
        );
        return None;
    };
    if list.get_ref().is_empty() {
        c.problem(list.span(), "choices is empty: nothing could be chosen");
        return None;
    }
    let before = c.count();
    let mut words: Vec<String> = Vec::new();
    for choice in list.get_ref() {
        let word = choice.get_ref();
        if word.is_empty() || word.contains(char::is_whitespace) || word.contains('\0') {
            c.problem(
                choice.span(),
                format!(
                    "choice {word:?} must be one word (no spaces, not empty): it is typed as one"
                ),
            );
        } else if words.contains(word) {
            c.problem(choice.span(), format!("choice {word:?} is listed twice"));
        }
        words.push(word.clone());
    }
    (c.count() == before).then_some(Kind::Choices(words))
}

fn int(c: &mut Checker, raw: &RawParam) -> Option<Kind> {
    let min = raw.min.as_ref().map_or(i64::MIN, |m| *m.get_ref());
    let max = raw.max.as_ref().map_or(i64::MAX, |m| *m.get_ref());
    if min > max {
        let span = raw.min.as_ref().map_or(raw.name.span(), Spanned::span);
        c.problem(span, format!("min ({min}) is greater than max ({max})"));
        return None;
    }
    Some(Kind::Int { min, max })
}

/// A default, checked as if typed in the chat.
fn default_value(c: &mut Checker, param: &Param, raw: &Spanned<DefaultValue>) -> Option<String> {
    let text = raw.get_ref().as_text();
    if matches!(param.kind, Kind::Upload) {
        c.problem(
            raw.span(),
            "an upload parameter has no default: its value is the file the command replies to",
        );
        return None;
    }
    if matches!(param.kind, Kind::Text) && text.trim().is_empty() {
        c.problem(
            raw.span(),
            "default is empty: leave it out to make the parameter required",
        );
        return None;
    }
    match check_value(param, &text) {
        Ok(value) => Some(value),
        Err(refusal) => {
            c.problem(raw.span(), format!("default of {}: {refusal}", param.name));
            None
        }
    }
}

/// How the parameters fit the command: a text parameter comes last, none
/// without a default follows one with, each is used, and a default or a
/// choice starting with '-' stands only where that is safe.
pub fn check_use(c: &mut Checker, params: &[Checked], args: &[Arg], mentioned: &[&str]) {
    let last = params.len().saturating_sub(1);
    let mut optional_seen = false;
    let uploads = params
        .iter()
        .filter(|p| matches!(p.param.kind, Kind::Upload))
        .count();
    for (i, checked) in params.iter().enumerate() {
        let param = &checked.param;
        if matches!(param.kind, Kind::Upload) {
            if uploads > 1 {
                c.problem(
                    checked.span.clone(),
                    format!("parameter {:?}: a command takes at most one upload parameter (the file it replies to)", param.name),
                );
            }
            if !mentioned.contains(&param.name.as_str()) {
                c.problem(
                    checked.span.clone(),
                    format!(
                        "parameter {:?} is not used: put {{{}}} in args",
                        param.name, param.name
                    ),
                );
            }
            // Never typed: neither in the order of the typed ones nor
            // able to start with '-' (an absolute path).
            continue;
        }
        if matches!(param.kind, Kind::Text) && i != last {
            c.problem(
                checked.span.clone(),
                format!("parameter {:?} is text (the rest of the message), so it must be the last parameter", param.name),
            );
        }
        if param.default.is_some() {
            optional_seen = true;
        } else if optional_seen {
            c.problem(
                checked.span.clone(),
                format!("parameter {:?} is required but follows an optional one: arguments are typed in order, so give it a default or move it first", param.name),
            );
        }
        if !mentioned.contains(&param.name.as_str()) {
            c.problem(
                checked.span.clone(),
                format!(
                    "parameter {:?} is not used: put {{{}}} in args or stdin",
                    param.name, param.name
                ),
            );
        }
        let unsafe_place = args
            .iter()
            .any(|a| matches!(a, Arg::Value { param, dash_ok: false, .. } if *param == i));
        if !unsafe_place {
            continue;
        }
        if let (Some(default), Some(span)) = (&param.default, &checked.default_span)
            && default.starts_with('-')
        {
            c.problem(span.clone(), dash_problem(&param.name, "default"));
        }
        if let Kind::Choices(words) = &param.kind
            && words.iter().any(|w| w.starts_with('-'))
        {
            c.problem(checked.span.clone(), dash_problem(&param.name, "a choice"));
        }
    }
}

fn dash_problem(name: &str, what: &str) -> String {
    format!(
        "{what} of {name:?} starts with '-' where the program would read it as an option: put \"--\" before {{{name}}} in args, or set allow_dash = true"
    )
}
